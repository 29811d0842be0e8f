//! People on photos nobody tuned the engine with: the shared people set (tests/fixtures/people
//! with its truth.json and groups/faces.json) through our face engine and through the peer
//! (Python face_recognition: dlib's HOG detector, 5-point alignment and the same descriptor) in
//! the same run. Beside each other: the distance of every same-person and different-person
//! pair, the distributions the tiers' `faces.max_distance` is chosen from, grouping (sets split,
//! persons holding two people) and detection on the boxed group photos, where the detectors
//! tried beside ours (bench/peer/detectors.py) are measured on the same photos too.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::path::Path;

use analyzer::decode::{FACES_SIDE, decode};
use analyzer::faces::builtin::BuiltinFaces;
use analyzer::geometry::{Bounds, iou};
use analyzer::passes_quality_gate;
use anyhow::{Context, Result};
use domain::grouping::distance;
use domain::memory::MemoryImages;
use domain::testing::people::PeopleSet;
use domain::{Analysis, FoundFace, ImageRecord, ImageStatus, ImageStore as _, PersonStore as _, PhotoRegion, UserName};
use runtime::config::{FaceSettings, Limit, QuotaSettings};

use crate::analysis::{Photo, run_peer};
use crate::figures::Report;
use crate::stats::median;

/// face_recognition's own tolerance (`compare_faces`): what its users group with.
const PEER_MAX_DISTANCE: f32 = 0.6;
/// A found box is the boxed face when they overlap at least this much.
const MIN_IOU: f32 = 0.4;

/// The faces one engine saw on one photo, boxes in pixels of the photo at 1,920 px.
struct Seen {
    /// The photo's width as the engine saw it.
    width: f32,
    faces: Vec<SeenFace>,
    /// How long finding the faces took (no descriptors), one thread.
    detect_ms: f64,
}

struct SeenFace {
    bounds: Bounds,
    descriptor: Vec<f32>,
    /// Past the engine's quality gate: grouped.
    grouped: bool,
}

impl SeenFace {
    fn centre(&self) -> [f32; 2] {
        [(self.bounds[0] + self.bounds[2]) / 2.0, (self.bounds[1] + self.bounds[3]) / 2.0]
    }

    fn area(&self) -> f32 {
        (self.bounds[2] - self.bounds[0]) * (self.bounds[3] - self.bounds[1])
    }

    fn holds(&self, [x, y]: [f32; 2]) -> bool {
        self.bounds[0] <= x && x <= self.bounds[2] && self.bounds[1] <= y && y <= self.bounds[3]
    }
}

/// A face whose person the truth tells: on a photo of named people, matched between engines.
struct Known<'a> {
    photo: &'a str,
    person: &'a str,
    ours: Option<&'a SeenFace>,
    peer: &'a SeenFace,
}

pub fn measure(report: &mut Report, people: &Path, python: Option<&Path>, settings: &FaceSettings, out: &Path) -> Result<()> {
    let read = |name: &str| std::fs::read(people.join(name)).with_context(|| format!("reading {name} in {}", people.display()));
    let set = PeopleSet::load(people).with_context(|| format!("reading the truth of {}", people.display()))?;
    let names = set.photos();
    // The women of sample1-6.jpg: different people as far as anyone can tell, for the
    // distributions only (no truth for grouping).
    let samples: Vec<String> = (1..=6).map(|n| format!("sample{n}.jpg")).collect();
    let all: Vec<String> = names.iter().chain(&samples).cloned().collect();

    let engine = BuiltinFaces::load()?;
    let mut ours: BTreeMap<&str, Seen> = BTreeMap::new();
    let mut photos = Vec::new();
    for name in &all {
        let bytes = read(name)?;
        let decoded = decode(&bytes, FACES_SIDE).map_err(|err| anyhow::anyhow!("{name}: {}", err.0))?;
        let (width, height) = (decoded.width() as f32, decoded.height() as f32);
        let started = std::time::Instant::now();
        engine.detect(&decoded)?;
        let detect_ms = started.elapsed().as_secs_f64() * 1000.0;
        let found = engine.find(&decoded)?;
        let faces = found
            .iter()
            .map(|face| SeenFace {
                bounds: face.bounds.corners(width, height),
                descriptor: face.descriptor.clone(),
                grouped: passes_quality_gate(face, decoded.width(), decoded.height(), settings.min_face_px),
            })
            .collect();
        ours.insert(name, Seen { width, faces, detect_ms });
        let content_type = if name.ends_with(".png") { "image/png" } else { "image/jpeg" };
        photos.push(Photo { name: file_key(name), bytes, content_type });
    }
    let Some(python) = python else {
        println!("  (the people section compares with the peer: run it with --peer-python)");
        return Ok(());
    };
    let photos: Vec<&Photo> = photos.iter().collect();
    let answer = run_peer(python, "people.py", &[], &photos, &out.join("people"))?;
    let peer = seen_by(&answer, &all, "people.py", settings)?;
    let tried = run_peer(python, "detectors.py", &[], &photos, &out.join("people"))?;
    let mtcnn = seen_by(&tried["mtcnn"], &all, "detectors.py (mtcnn)", settings)?;

    let known = known_faces(&set, &ours, &peer);
    pairs(report, &known, out)?;
    distributions(report, &known, &ours, &peer, &all, settings.max_distance);
    for (engine, seen, max_distance) in [("ours", &ours, settings.max_distance), ("peer", &peer, PEER_MAX_DISTANCE)] {
        for regroup in [false, true] {
            grouping(report, engine, &set, &names, seen, max_distance, regroup)?;
        }
    }
    for (engine, seen) in [("ours", &ours), ("peer", &peer), ("mtcnn", &mtcnn)] {
        detection(report, engine, &set, seen);
    }
    Ok(())
}

/// The faces a Python script saw on each photo (its answer: per photo, by [`file_key`], the
/// width, the faces' boxes and descriptors, if any, and the milliseconds of detection).
fn seen_by<'a>(answer: &serde_json::Value, all: &'a [String], script: &str, settings: &FaceSettings) -> Result<BTreeMap<&'a str, Seen>> {
    let mut seen = BTreeMap::new();
    for name in all {
        let figures = &answer[file_key(name).as_str()];
        let faces = figures["faces"].as_array().with_context(|| format!("{script} has no faces for {name}"))?;
        let faces = faces
            .iter()
            .map(|face| {
                let bounds: Bounds = std::array::from_fn(|i| face["box"][i].as_f64().unwrap_or(f64::NAN) as f32);
                // The peers have no quality gate: every face large enough is grouped.
                let side = (bounds[2] - bounds[0]).max(bounds[3] - bounds[1]);
                SeenFace {
                    bounds,
                    descriptor: face["descriptor"].as_array().into_iter().flatten().filter_map(|v| v.as_f64()).map(|v| v as f32).collect(),
                    grouped: side >= settings.min_face_px as f32,
                }
            })
            .collect();
        let width = figures["width"].as_f64().unwrap_or(f64::NAN) as f32;
        seen.insert(name.as_str(), Seen { width, faces, detect_ms: figures["ms"].as_f64().unwrap_or(f64::NAN) });
    }
    Ok(seen)
}

/// A file name for the peer's folder: the group photos' folder flattened.
fn file_key(name: &str) -> String {
    name.trim_end_matches(".jpg").trim_end_matches(".jpeg").trim_end_matches(".png").replace('/', "_")
}

/// The faces of named photos with their person: on a photo of k people, the peer's k largest
/// faces, each the person whose other photos it is nearest to (on the peer's descriptors), and
/// our face around the same centre.
fn known_faces<'a>(set: &'a PeopleSet, ours: &'a BTreeMap<&str, Seen>, peer: &'a BTreeMap<&str, Seen>) -> Vec<Known<'a>> {
    let truth = &set.truth;
    let who = set.who();
    let largest = |photo: &str| peer[photo].faces.iter().max_by(|a, b| a.area().total_cmp(&b.area()));
    let mut known = Vec::new();
    for (&photo, persons) in &who {
        let mut faces: Vec<&SeenFace> = peer[photo].faces.iter().collect();
        faces.sort_by(|a, b| b.area().total_cmp(&a.area()));
        faces.truncate(persons.len());
        let mut left: Vec<&str> = persons.clone();
        for face in faces {
            let nearest = |person: &str| -> f32 {
                let others: Vec<f32> = truth
                    .same_person
                    .get(person)
                    .into_iter()
                    .flatten()
                    .filter(|other| *other != photo && who[other.as_str()].len() == 1)
                    .filter_map(|other| largest(other))
                    .map(|other| distance(&face.descriptor, &other.descriptor))
                    .collect();
                if others.is_empty() { 0.0 } else { others.iter().sum::<f32>() / others.len() as f32 }
            };
            let Some(index) = (0..left.len()).min_by(|&a, &b| nearest(left[a]).total_cmp(&nearest(left[b]))) else { break };
            let person = left.remove(index);
            let ours = ours[photo].faces.iter().find(|ours| face.holds(ours.centre()));
            known.push(Known { photo, person, ours, peer: face });
        }
    }
    known
}

/// Every pair of known faces on different photos, ours beside the peer's: a table in
/// people_pairs.md and how far apart the two engines are on average.
fn pairs(report: &mut Report, known: &[Known], out: &Path) -> Result<()> {
    let mut table = String::from("| pair | same person | ours | peer |\n|---|---|---|---|\n");
    let mut gaps: BTreeMap<bool, Vec<f64>> = BTreeMap::new();
    for (i, a) in known.iter().enumerate() {
        for b in known[i + 1..].iter().filter(|b| b.photo != a.photo) {
            let same = a.person == b.person;
            let peer = distance(&a.peer.descriptor, &b.peer.descriptor);
            let ours = a.ours.zip(b.ours).map(|(x, y)| distance(&x.descriptor, &y.descriptor));
            let shown = ours.map_or("not found".to_string(), |d| format!("{d:.3}"));
            writeln!(table, "| {} ~ {} | {} | {shown} | {peer:.3} |", a.photo, b.photo, if same { "yes" } else { "no" })?;
            if let Some(ours) = ours {
                gaps.entry(same).or_default().push(f64::from((ours - peer).abs()));
            }
        }
    }
    std::fs::write(out.join("people_pairs.md"), &table)?;
    println!("{table}");
    for (same, kind) in [(true, "same"), (false, "different")] {
        let gaps = gaps.remove(&same).unwrap_or_default();
        report.add(
            format!("people.pairs.{kind}.mean_gap_to_peer"),
            gaps.iter().sum::<f64>() / gaps.len().max(1) as f64,
            "",
            format!(
                "|ours - peer| averaged over the {} {kind}-person pairs of the named photos (each pair in people_pairs.md)",
                gaps.len()
            ),
        );
    }
    Ok(())
}

/// Same-person distances (named photos) and different-person ones (named photos of different
/// people, and every two faces of a photo of several people), for each engine.
fn distributions<'a>(
    report: &mut Report,
    known: &[Known<'a>],
    ours: &BTreeMap<&str, Seen>,
    peer: &BTreeMap<&str, Seen>,
    all: &[String],
    threshold: f32,
) {
    let several: Vec<&String> =
        all.iter().filter(|name| name.contains("groups/") || name.starts_with("sample") || name.starts_with("bald")).collect();
    for (engine, seen) in [("ours", ours), ("peer", peer)] {
        let descriptor = |face: &Known<'a>| -> Option<&'a Vec<f32>> {
            if engine == "ours" { face.ours.map(|f| &f.descriptor) } else { Some(&face.peer.descriptor) }
        };
        let (mut same, mut different) = (Vec::new(), Vec::new());
        for (i, a) in known.iter().enumerate() {
            for b in known[i + 1..].iter().filter(|b| b.photo != a.photo) {
                if let (Some(x), Some(y)) = (descriptor(a), descriptor(b)) {
                    if a.person == b.person { &mut same } else { &mut different }.push(f64::from(distance(x, y)));
                }
            }
        }
        for name in &several {
            let faces = &seen[name.as_str()].faces;
            for (i, a) in faces.iter().enumerate() {
                different.extend(faces[i + 1..].iter().map(|b| f64::from(distance(&a.descriptor, &b.descriptor))));
            }
        }
        for (kind, values) in [("same", &mut same), ("different", &mut different)] {
            values.sort_by(f64::total_cmp);
            let at = |q: f64| values.get(((values.len() as f64 - 1.0) * q).round() as usize).copied().unwrap_or(f64::NAN);
            for (figure, value) in [("min", at(0.0)), ("p5", at(0.05)), ("median", median(values)), ("p95", at(0.95)), ("max", at(1.0))] {
                report.add(
                    format!("people.distances.{engine}.{kind}.{figure}"),
                    value,
                    "",
                    format!("{figure} of {} {kind}-person distances ({engine})", values.len()),
                );
            }
        }
    }
    report.add("people.distances.threshold", f64::from(threshold), "", "faces.max_distance of the tier benched (stacks/*.yaml says why)");
}

/// Every photo of the set uploaded in name order and grouped as the analyzer groups it, through
/// the in-memory store: each face joins the nearest person's centre within `max_distance` (one
/// person per face of a photo), then, with `regroup`, strays join the persons that grew near
/// them. Named sets split over persons, and persons holding two people.
fn grouping(
    report: &mut Report,
    engine: &str,
    set: &PeopleSet,
    names: &[String],
    seen: &BTreeMap<&str, Seen>,
    max_distance: f32,
    regroup: bool,
) -> Result<()> {
    let images = MemoryImages::default();
    let user = UserName::parse("bench").map_err(|err| anyhow::anyhow!("{err}"))?;
    let quotas = QuotaSettings { photos_per_user: Limit::Unlimited, bytes_per_user: Limit::Unlimited, max_photo_bytes: u64::MAX };
    let mut persons_of: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    futures::executor::block_on(async {
        let mut photos = Vec::with_capacity(names.len());
        for name in names {
            let seen_faces = &seen[name.as_str()].faces;
            // The rule reads only descriptors; where and how sure were settled by the gate.
            let faces: Vec<FoundFace> = seen_faces
                .iter()
                .map(|face| {
                    FoundFace::described(PhotoRegion { left: 0.0, top: 0.0, width: 1.0, height: 1.0 }, 1.0, face.descriptor.clone())
                })
                .collect();
            let grouped: Vec<bool> = seen_faces.iter().map(|face| face.grouped).collect();
            let record = ImageRecord::new(&user, ImageStatus::Pending, "image/jpeg");
            images.create(&record, &quotas).await?;
            let grouping = images.group_faces(&user, record.id, &faces, &grouped, max_distance).await?;
            images.put_analysis(&record, &Analysis { faces, persons: grouping.persons, ..Analysis::default() }).await?;
            if regroup {
                domain::persons::absorb_strays(&images, &user, &grouping.strays).await?;
            }
            photos.push((name, record.id));
        }
        for (name, id) in photos {
            let record = images.get(&user, id).await?.with_context(|| format!("{name} vanished from the store"))?;
            persons_of.entry(name.clone()).or_default().extend(record.faces.iter().filter_map(|face| face.person_id.clone()));
        }
        anyhow::Ok(())
    })?;
    let split = set.split_sets(&persons_of);
    let mixing = set.mixing_persons(&persons_of);
    let (figure, how) = if regroup { ("", "") } else { ("_on_arrival", ", faces grouped on arrival only (no strays regrouped)") };
    report.add(
        format!("people.grouping.{engine}.sets_split{figure}"),
        split.len() as f64,
        "sets",
        format!(
            "of {} same-person sets, those in no one person (at distance {max_distance}{how}): {}",
            set.truth.same_person.len(),
            split.join(", ")
        ),
    );
    report.add(
        format!("people.grouping.{engine}.persons_mixing{figure}"),
        mixing.len() as f64,
        "persons",
        format!("persons holding faces of two people{how}"),
    );
    Ok(())
}

/// Faces of the boxed group photos found (a box overlapping by IoU 0.4), faces found that are
/// none, and faces found where there is no human face.
fn detection(report: &mut Report, engine: &str, set: &PeopleSet, seen: &BTreeMap<&str, Seen>) {
    let detected = set.detected(
        |name| {
            let photo = &seen[name];
            (photo.width, photo.faces.iter().map(|face| face.bounds).collect())
        },
        iou,
        MIN_IOU,
    );
    report.add(
        format!("people.detection.{engine}.found"),
        detected.found as f64,
        "faces",
        format!("of the {} boxed faces of groups/ (IoU >= {MIN_IOU})", detected.boxed),
    );
    report.add(
        format!("people.detection.{engine}.false_faces"),
        detected.false_faces.len() as f64,
        "faces",
        "faces found on groups/ that are none",
    );
    let none = &set.truth.no_human_face;
    let among_none: usize = none.iter().map(|name| seen[name.as_str()].faces.len()).sum();
    report.add(
        format!("people.detection.{engine}.in_photos_without_people"),
        among_none as f64,
        "faces",
        format!("faces found in {}", none.join(", ")),
    );
    let times: Vec<f64> = seen.values().map(|photo| photo.detect_ms).collect();
    report.add(
        format!("people.detection.{engine}.ms_per_photo"),
        times.iter().sum::<f64>() / times.len().max(1) as f64,
        "ms",
        format!(
            "finding the faces (no descriptors) of a photo, one thread, mean over the {} photos of the set at up to 1920 px",
            times.len()
        ),
    );
}
