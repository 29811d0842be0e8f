//! Faces: milliseconds per photo for detection + descriptors on one thread (a portrait, a
//! 5-person group photo, the same group at 12 MP), beside the peer (Python face_recognition:
//! dlib's HOG detector and the same ResNet descriptor) on the same files; and the DynamoDB
//! items read to group one new face as a user grows to 1,000 persons and 20,000 faces.

use std::collections::BTreeMap;
use std::path::Path;
use std::time::Instant;

use analyzer::decode;
use analyzer::faces::builtin::BuiltinFaces;
use anyhow::{Context, Result};
use aws_adapters::images::bulk::people_items;
use domain::grouping::{self, Member};
use domain::{FoundFace, ImageId, ImageRecord, ImageStatus, ImageStore, PersonId, PersonStore, PhotoRegion, QuotaSettings, UserName};
use futures::{StreamExt, TryStreamExt};
use image::imageops::FilterType;
use indicatif::{ProgressBar, ProgressStyle};
use runtime::config::Limit;

use crate::analysis::{Photo, run_peer};
use crate::figures::Report;
use crate::reads::counted_images;
use crate::stats::{median, ms};

/// Users grown for the grouping figures: (persons, faces), each face on a photo of its own.
const TENANTS: [(usize, usize); 3] = [(10, 200), (100, 2_000), (1_000, 20_000)];
const ITEMS_PER_WRITE: usize = 250;
const WRITES_IN_FLIGHT: usize = 4;
/// The tier default: faces of one person lie within it.
const MAX_DISTANCE: f32 = 0.53;

/// The photos timed: a portrait, a group of five, and that group as a 12 MP JPEG.
pub fn photos(people: &Path) -> Result<Vec<Photo>> {
    let read = |name: &str| std::fs::read(people.join(name)).with_context(|| format!("reading {name} in {}", people.display()));
    let group = read("sample5.jpg")?;
    let large = image::load_from_memory(&group)?.to_rgb8();
    let scale = (12_000_000.0 / f64::from(large.width() * large.height())).sqrt();
    let (width, height) = ((f64::from(large.width()) * scale) as u32, (f64::from(large.height()) * scale) as u32);
    let large = image::imageops::resize(&large, width, height, FilterType::Triangle);
    let mut large_bytes = Vec::new();
    image::codecs::jpeg::JpegEncoder::new_with_quality(&mut large_bytes, 90).encode_image(&large)?;
    Ok(vec![
        Photo { name: "portrait".into(), bytes: read("astronaut.png")?, content_type: "image/png" },
        Photo { name: "group_of_5".into(), bytes: group, content_type: "image/jpeg" },
        Photo { name: "group_12mp".into(), bytes: large_bytes, content_type: "image/jpeg" },
    ])
}

/// Decode at the face engine's size, then detection (whole photo and tiles) and a descriptor
/// per face, on this thread: the median milliseconds by photo name.
pub fn per_photo(report: &mut Report, photos: &[Photo], runs: usize) -> Result<BTreeMap<String, f64>> {
    let engine = BuiltinFaces::load()?;
    let mut medians = BTreeMap::new();
    for photo in photos {
        let mut times = Vec::new();
        let mut found = 0;
        // The first run warms caches and is not counted.
        for run in 0..=runs {
            let started = Instant::now();
            let decoded = decode::decode(&photo.bytes, decode::FACES_SIDE).map_err(|err| anyhow::anyhow!("{}: {}", photo.name, err.0))?;
            found = engine.find(&decoded)?.len();
            if run > 0 {
                times.push(ms(started.elapsed()));
            }
        }
        let size = format!("{}, {} KiB", photo.name, photo.bytes.len() / 1024);
        report.add(
            format!("faces.ms_per_photo.{}", photo.name),
            median(&times),
            "ms",
            format!("decode + BlazeFace (whole photo and tiles) + a dlib descriptor per face, {size}, one thread (median of {runs})"),
        );
        report.add(format!("faces.found.{}", photo.name), found as f64, "faces", "faces the built-in engine found");
        medians.insert(photo.name.clone(), median(&times));
    }
    Ok(medians)
}

/// The peer on the same files: bench/peer/faces.py (face_recognition on dlib, one thread).
pub fn peer(report: &mut Report, python: &Path, photos: &[Photo], ours: &BTreeMap<String, f64>, runs: usize, out: &Path) -> Result<()> {
    let photos: Vec<&Photo> = photos.iter().collect();
    let answer = run_peer(python, "faces.py", &[runs.to_string()], &photos, &out.join("faces"))?;
    let version = answer["dlib"].as_str().unwrap_or("?");
    for photo in photos {
        let figures = &answer["photos"][&photo.name];
        let peer_ms = figures["ms_per_photo"].as_f64().with_context(|| format!("the faces peer has no figure for {}", photo.name))?;
        report.add(
            format!("faces.peer.ms_per_photo.{}", photo.name),
            peer_ms,
            "ms",
            format!("the peer (Python face_recognition 1.3.0, dlib {version}: HOG + the same descriptor) on the same file at the same 1920 px (median of {runs})"),
        );
        report.add(
            format!("faces.peer.found.{}", photo.name),
            figures["faces"].as_f64().unwrap_or(f64::NAN),
            "faces",
            "faces the peer found",
        );
        report.add(
            format!("faces.ratio_to_peer.{}", photo.name),
            ours.get(&photo.name).copied().unwrap_or(f64::NAN) / peer_ms,
            "x",
            "our ms per photo over the peer's: at most 1 is the goal",
        );
    }
    Ok(())
}

/// A deterministic stream of values in -1..1 (no randomness crate needed for a benchmark).
struct Noise(u32);

impl Noise {
    fn next(&mut self) -> f32 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 17;
        self.0 ^= self.0 << 5;
        (self.0 as f32 / u32::MAX as f32) * 2.0 - 1.0
    }

    /// A point near `centre`, `spread` away at most in each of its coordinates.
    fn near(&mut self, centre: &[f32], spread: f32) -> Vec<f32> {
        centre.iter().map(|value| value + self.next() * spread).collect()
    }
}

/// Per tenant size: a user with that many persons and faces (bulk-loaded as grouping leaves
/// them), then one new photo of one of them grouped: the items read and the time it takes.
pub async fn grouping_cost(report: &mut Report, aws: &aws_config::SdkConfig, table: &str) -> Result<()> {
    let (counted, reads) = counted_images(aws, table);
    let writer = aws_adapters::DynamoImages::new(aws_sdk_dynamodb::Client::new(aws), table);
    let mut noise = Noise(0x2545_f491);
    let progress = ProgressBar::new(0).with_style(ProgressStyle::with_template("seeding {msg}: {pos}/{len} items [{elapsed}, eta {eta}]")?);
    for (persons, faces) in TENANTS {
        let user = UserName::parse(&format!("faces-{persons}"))?;
        let centres: Vec<Vec<f32>> = (0..persons).map(|_| (0..128).map(|_| noise.next() * 0.3).collect()).collect();
        let mut members: Vec<Member> = centres.iter().map(|_| grouping::start()).collect();
        let mut seeded = Vec::with_capacity(faces);
        for index in 0..faces {
            let person = index % persons;
            let descriptor = noise.near(&centres[person], 0.01);
            let image = ImageId::new();
            let (member, centre) = &mut members[person];
            grouping::join(member, centre, &descriptor, domain::FaceId { image, index: 0 });
            seeded.push((image, member.id, descriptor));
        }
        let items = people_items(&user, &members, &seeded)?;
        progress.set_length(items.len() as u64);
        progress.set_position(0);
        progress.set_message(format!("{persons} persons, {faces} faces"));
        futures::stream::iter(items.chunks(ITEMS_PER_WRITE))
            .map(|chunk| {
                let (writer, progress) = (&writer, &progress);
                async move {
                    writer.bulk_put(chunk.to_vec()).await?;
                    progress.inc(chunk.len() as u64);
                    anyhow::Ok(())
                }
            })
            .buffer_unordered(WRITES_IN_FLIGHT)
            .try_collect::<()>()
            .await?;

        // A new photo of the first person, grouped as the analyzer does.
        let record = new_photo(&user);
        let quotas = QuotaSettings { photos_per_user: Limit::Unlimited, bytes_per_user: Limit::Unlimited, max_photo_bytes: 1 << 30 };
        writer.create(&record, &quotas).await?;
        let face = FoundFace::described(PhotoRegion { left: 0.3, top: 0.3, width: 0.3, height: 0.3 }, 0.99, noise.near(&centres[0], 0.01));
        reads.take();
        let started = Instant::now();
        let joined = counted.group_faces(&user, record.id, &[face], &[true], MAX_DISTANCE).await?.persons;
        let elapsed = ms(started.elapsed());
        let (items, requests) = reads.take();
        let expected: PersonId = members[0].0.id;
        anyhow::ensure!(joined == [Some(expected)], "the new face joined {joined:?}, not its person {expected}");
        let setting = format!("a user of {persons} persons and {faces} faces (each on a photo of its own)");
        report.add(
            format!("faces.group.items_read.p{persons}"),
            items as f64,
            "items",
            format!("items read (Count + ScannedCount of Queries, GetItem items; {requests} reads) to group one new face, {setting}: about the persons, never the faces"),
        );
        // The candidates' read alone (the same Query of the person items), to tell it from the
        // transaction, which the emulator runs after a deep copy of every table.
        let started = Instant::now();
        counted.persons(&user).await?;
        let read_alone = ms(started.elapsed());
        reads.take();
        report.add(
            format!("faces.group.ms.p{persons}"),
            elapsed,
            "ms",
            format!("time to group it, reads and the transaction, against the emulator, {setting}"),
        );
        report.add(
            format!("faces.group.read_persons_ms.p{persons}"),
            read_alone,
            "ms",
            "of which the Query of the person items, timed alone; the rest is the emulator's TransactWriteItems, which deep-copies every table first",
        );
        // Gone again, so that the emulator's copies stay small for the next step and section.
        progress.set_message(format!("removing the user of {persons} persons"));
        writer.delete_all(&user).await?;
    }
    progress.finish_and_clear();
    Ok(())
}

fn new_photo(user: &UserName) -> ImageRecord {
    ImageRecord { size: 1_000_000, width: Some(1920), height: Some(1080), ..ImageRecord::new(user, ImageStatus::Pending, "image/jpeg") }
}
