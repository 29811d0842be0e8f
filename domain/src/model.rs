//! The domain's types: users, images and their labels, as the stores keep them.

use std::collections::BTreeSet;
use std::fmt;

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::error::{Error, Result};

/// What a user name may be.
const USER_NAME_RULE: &str = "a user name has 3 to 32 characters: lower-case letters, digits, '-' and '_', starting with a letter";

fn check_user_name(value: &str) -> std::result::Result<(), String> {
    let valid = (3..=32).contains(&value.len())
        && value.starts_with(|c: char| c.is_ascii_lowercase())
        && value.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '_');
    if valid { Ok(()) } else { Err(USER_NAME_RULE.to_owned()) }
}

contract::checked_string! {
    /// A user name: 3 to 32 characters, lower-case letters, digits, `-` and `_`, starting with
    /// a letter. It is the user's key everywhere (partition, S3 prefix), so it never changes.
    pub struct UserName, checked by check_user_name;
}

impl UserName {
    /// A user name from outside input; `invalid_user_name` otherwise.
    pub fn parse(value: &str) -> Result<Self> {
        value.parse().map_err(|_| Error::invalid("invalid_user_name", USER_NAME_RULE))
    }
}

/// A user as stored. `password_hash` is an Argon2id PHC string; `token_generation` changes
/// whenever earlier tokens must stop working.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserRecord {
    pub user_name: UserName,
    /// Given at creation and never changed (a move between stacks keeps it): tokens name it, so
    /// a token of a removed account never opens another that takes the same name later.
    pub account_id: AccountId,
    pub email: String,
    pub first_name: String,
    pub last_name: String,
    pub password_hash: String,
    pub registration_date: OffsetDateTime,
    pub token_generation: u64,
    pub status: AccountStatus,
    /// Whose password it is: the user's, or one ops gave once (which the first sign-in replaces).
    pub password: PasswordOrigin,
    pub last_sign_in: Option<OffsetDateTime>,
}

/// Whose password an account has.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PasswordOrigin {
    /// The user chose it.
    Chosen,
    /// Ops gave it once (`deployer tenant create` / `reset-password`): the first sign-in must
    /// choose a new one, and it works only until `expires_at`.
    OneTime { expires_at: OffsetDateTime },
}

impl PasswordOrigin {
    /// How long a one-time password works unless ops say otherwise: a day to pass it on.
    pub const ONE_TIME_LIFETIME: time::Duration = time::Duration::hours(24);

    /// Until when a one-time password works; `None` for one the user chose.
    pub fn one_time_until(self) -> Option<OffsetDateTime> {
        match self {
            PasswordOrigin::OneTime { expires_at } => Some(expires_at),
            PasswordOrigin::Chosen => None,
        }
    }

    pub fn is_one_time(self) -> bool {
        self.one_time_until().is_some()
    }
}

/// What an account may do, as ops set it (`deployer tenant ...`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum AccountStatus {
    #[default]
    Active,
    /// Nothing is deleted, but no token works and every call is refused.
    Suspended,
    /// Being moved to another stack: read-only until the move ends.
    Moving,
}

impl AccountStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            AccountStatus::Active => "active",
            AccountStatus::Suspended => "suspended",
            AccountStatus::Moving => "moving",
        }
    }
}

impl fmt::Display for AccountStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Defines an id that is a ULID (26 characters of Crockford base32), so ids sort by creation
/// time. Parsing refuses anything else, which also keeps path tricks out of keys.
macro_rules! ulid_id {
    ($(#[$doc:meta])* $name:ident, $code:literal, $message:literal) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub struct $name(ulid::Ulid);

        impl $name {
            /// The smallest and largest ids, bounds for range reads.
            pub const MIN: $name = $name(ulid::Ulid::nil());
            pub const MAX: $name = $name(ulid::Ulid::from_bytes([0xff; 16]));

            pub fn new() -> Self {
                Self(ulid::Ulid::new())
            }

            pub fn parse(value: &str) -> Result<Self> {
                let invalid = || Error::invalid($code, $message);
                if value.len() != 26 {
                    return Err(invalid());
                }
                ulid::Ulid::from_string(value).map(Self).map_err(|_| invalid())
            }
        }

        impl Default for $name {
            fn default() -> Self {
                Self::new()
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                self.0.fmt(f)
            }
        }
    };
}

ulid_id!(
    /// An account's immutable id (see [`UserRecord::account_id`]).
    AccountId, "invalid_account_id", "an account id is 26 letters and digits");

ulid_id!(
    /// One sign-in's session: its token names it, and it ends server-side (sign-out) before
    /// the token expires.
    SessionId, "invalid_session_id", "a session id is 26 letters and digits");

ulid_id!(
    /// An image id, given at upload.
    ImageId, "invalid_image_id", "an image id is 26 letters and digits, as returned at upload");
ulid_id!(
    /// A person id, given when a face starts a person.
    PersonId, "invalid_person_id", "a person id is 26 letters and digits, as GET /persons lists them");

ulid_id!(
    /// A collection's id (an album a user makes), given at its creation.
    CollectionId, "invalid_collection_id", "a collection id is 26 letters and digits, as GET /collections lists them");

ulid_id!(
    /// A link to a collection ([`crate::links`]): how its owner names it to list or delete it
    /// (the secret of its URL is another thing, shown once).
    LinkId, "invalid_link_id", "a link id is 26 letters and digits, as GET /collections/{id}/links lists them");

/// Where an image is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ImageStatus {
    /// A presigned upload was handed out; the photo is not confirmed yet.
    Uploading,
    /// Stored and waiting for analysis.
    Pending,
    /// Analysed; labels are searchable.
    Ready,
    /// Analysis failed for good; see the reason.
    Failed,
}

impl ImageStatus {
    pub const ALL: [ImageStatus; 4] = [ImageStatus::Uploading, ImageStatus::Pending, ImageStatus::Ready, ImageStatus::Failed];
}

/// One label of an image, lower-case, with Rekognition-style confidence in percent.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Label {
    pub name: String,
    pub confidence: f32,
}

/// A region of a photo (a face's box, a line of text's), as fractions of the photo's width
/// and height, so that it holds at any size.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct PhotoRegion {
    pub left: f32,
    pub top: f32,
    pub width: f32,
    pub height: f32,
}

impl PhotoRegion {
    /// The region's corners (x0, y0, x1, y1) in the pixels of a photo `width` x `height`.
    pub fn corners(&self, width: f32, height: f32) -> [f32; 4] {
        [self.left * width, self.top * height, (self.left + self.width) * width, (self.top + self.height) * height]
    }
}

/// A face an engine found, before it is stored.
#[derive(Debug, Clone, PartialEq)]
pub struct FoundFace {
    pub bounds: PhotoRegion,
    /// The detector's confidence, 0 to 1.
    pub score: f32,
    /// Where faces of one person lie close (Euclidean distance); empty when the engine keeps
    /// its own (Rekognition).
    pub descriptor: Vec<f32>,
    /// The engine's own id of the face, where it keeps faces (Rekognition's FaceId).
    pub engine_id: Option<String>,
    /// Where the engine keeps faces: the user's earlier faces it finds like this one.
    pub matches: Vec<FaceMatch>,
}

impl FoundFace {
    /// A face found by a descriptor (the built-in engine).
    pub fn described(bounds: PhotoRegion, score: f32, descriptor: Vec<f32>) -> Self {
        Self { bounds, score, descriptor, engine_id: None, matches: Vec::new() }
    }

    /// Whether grouping can place it: by its descriptor, or by the engine's matches.
    pub fn groupable(&self) -> bool {
        !self.descriptor.is_empty() || self.engine_id.is_some()
    }
}

/// A face of another photo of the user that an engine finds like a new one.
#[derive(Debug, Clone, PartialEq)]
pub struct FaceMatch {
    pub image: ImageId,
    /// The engine's id of the matching face.
    pub engine_id: String,
    /// Percent.
    pub similarity: f32,
}

/// A face on a stored photo: its place among the photo's faces, where it is, and whose.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Face {
    pub index: u32,
    #[serde(rename = "box")]
    pub bounds: PhotoRegion,
    pub score: f32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub person_id: Option<String>,
    /// The engine's id of the face, where it keeps faces (removed with the photo).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub engine_id: Option<String>,
}

impl Face {
    pub fn id(&self, image: ImageId) -> FaceId {
        FaceId { image, index: self.index }
    }
}

/// A face's id: its photo's id and its place among the photo's faces, `<image id>-<n>` in the
/// API and in person covers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct FaceId {
    pub image: ImageId,
    pub index: u32,
}

impl FaceId {
    pub fn parse(value: &str) -> Result<Self> {
        let invalid = || Error::invalid("invalid_face_id", "a face id is an image id, a dash and a number, as GET /images/{id} lists it");
        let (image, index) = value.rsplit_once('-').ok_or_else(invalid)?;
        Ok(Self { image: ImageId::parse(image).map_err(|_| invalid())?, index: index.parse().map_err(|_| invalid())? })
    }
}

impl fmt::Display for FaceId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}-{}", self.image, self.index)
    }
}

/// A person: faces of one someone, grouped by the analyzer and corrected by the user.
#[derive(Debug, Clone, PartialEq)]
pub struct Person {
    pub id: PersonId,
    pub name: Option<String>,
    pub hidden: bool,
    pub face_count: u64,
    pub photo_count: u64,
    /// The face shown for the person.
    pub cover: Option<FaceId>,
    /// The user put a face here or merged persons into it: later grouping never takes this
    /// person into another ([`crate::grouping::strays`]).
    pub confirmed: bool,
    /// Persons the user said are someone else: never suggested as this one, never grouped
    /// with it.
    pub apart_from: BTreeSet<PersonId>,
}

impl Person {
    /// The listing's order: most photos first, then by id (cursors rely on it).
    pub fn sort_for_listing(persons: &mut [Person]) {
        persons.sort_by(|a, b| b.photo_count.cmp(&a.photo_count).then_with(|| a.id.cmp(&b.id)));
    }
}

/// What the user changes of a person.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct PersonChange {
    pub name: Option<String>,
    pub hidden: Option<bool>,
}

impl PersonChange {
    /// Applies the change, refusing a name another person of `persons` has (case aside).
    pub fn apply(&self, person: &mut Person, persons: &[Person]) -> Result<()> {
        if let Some(name) = &self.name {
            let taken = persons
                .iter()
                .find(|other| other.id != person.id && other.name.as_deref().is_some_and(|n| n.to_lowercase() == name.to_lowercase()));
            if let Some(other) = taken {
                return Err(Error::NameTaken { person_id: other.id.to_string() });
            }
            person.name = Some(name.clone());
        }
        if let Some(hidden) = self.hidden {
            person.hidden = hidden;
        }
        Ok(())
    }
}

/// What the analyzer found in a photo.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Analysis {
    pub labels: Vec<Label>,
    /// Most confident first; stored in that order, so a redelivery rewrites the same faces.
    pub faces: Vec<FoundFace>,
    /// The person of each face (none for faces left out of grouping); empty: nobody's.
    pub persons: Vec<Option<PersonId>>,
    /// Every line of text, and the words it is found by ([`words_of`]).
    pub text: Vec<TextLine>,
    pub words: Vec<String>,
    /// The photo's average colour (`#rrggbb`): the gallery's placeholder while it loads.
    pub color: Option<String>,
    /// Where it was taken: the nearest populated place to its EXIF GPS position, if any.
    pub place: Option<crate::places::Place>,
}

impl Analysis {
    /// Faces as the record keeps them, not yet anyone's.
    pub fn face_records(&self) -> Vec<Face> {
        self.faces
            .iter()
            .zip(0u32..)
            .map(|(face, index)| Face {
                index,
                bounds: face.bounds,
                score: face.score,
                person_id: self.persons.get(index as usize).copied().flatten().map(|person| person.to_string()),
                engine_id: face.engine_id.clone(),
            })
            .collect()
    }
}

/// A line of text found in a photo.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TextLine {
    pub text: String,
    /// As fractions of the photo's width and height, like a face's box.
    #[serde(rename = "box")]
    pub bounds: PhotoRegion,
    /// 0 to 1.
    pub confidence: f32,
}

/// The longest word indexed, in characters: longer runs are not words people search for.
pub const MAX_WORD_CHARS: usize = 40;

/// A word as indexed and searched: lower case, accents folded (é -> e), every character that
/// is not a letter or a digit dropped (so "Here," is "here" and "np.zeros_like" "npzeroslike");
/// `None` when nothing is left or it is longer than [`MAX_WORD_CHARS`].
pub fn normalize_word(raw: &str) -> Option<String> {
    use unicode_normalization::UnicodeNormalization;
    use unicode_normalization::char::is_combining_mark;
    let word: String = raw.nfd().filter(|c| !is_combining_mark(*c)).filter(|c| c.is_alphanumeric()).flat_map(char::to_lowercase).collect();
    (!word.is_empty() && word.chars().count() <= MAX_WORD_CHARS).then_some(word)
}

/// Characters that join words without a space: initials (`A.B.JONES`), compounds
/// (`pre-training`), host names. A joined token is found by its whole and by each part.
const JOINERS: [char; 4] = ['.', '-', '\u{2010}', '\u{2013}'];

/// The words one whitespace-separated token is found by: the token normalised whole, then each
/// part between [`JOINERS`] of two characters or more (a lone initial is no word to search).
fn token_words(token: &str) -> impl Iterator<Item = String> + '_ {
    let parts: Vec<&str> = token.split(JOINERS).collect();
    let split = parts.len() > 1;
    normalize_word(token)
        .into_iter()
        .chain(parts.into_iter().filter(move |_| split).filter_map(normalize_word).filter(|part| part.chars().count() >= 2))
}

/// The words a photo is found by: its lines' words, normalised, each once, the most confident
/// lines' first, at most `max_words`.
pub fn words_of(lines: &[TextLine], max_words: usize) -> Vec<String> {
    let mut ordered: Vec<&TextLine> = lines.iter().collect();
    ordered.sort_by(|a, b| b.confidence.total_cmp(&a.confidence));
    let mut words: Vec<String> = Vec::new();
    for word in ordered.iter().flat_map(|line| line.text.split_whitespace()).flat_map(token_words) {
        if words.len() == max_words {
            break;
        }
        if !words.contains(&word) {
            words.push(word);
        }
    }
    words
}

/// Normalises a label as stored and searched: trimmed, lower-case, inner spaces kept single.
pub fn normalize_label(raw: &str) -> Result<String> {
    // As typed, too: a label is short, and what is refused must not depend on the spaces.
    if raw.chars().count() > 64 {
        return Err(Error::invalid("invalid_label", "a label has 1 to 64 letters, digits, spaces, '-' or '\''"));
    }
    let label = raw.split_whitespace().collect::<Vec<_>>().join(" ").to_lowercase();
    let valid = !label.is_empty() && label.len() <= 64 && label.chars().all(|c| c.is_alphanumeric() || c == ' ' || c == '-' || c == '\'');
    if valid { Ok(label) } else { Err(Error::invalid("invalid_label", "a label has 1 to 64 letters, digits, spaces, '-' or '\''")) }
}

/// An image as stored.
#[derive(Debug, Clone, PartialEq)]
pub struct ImageRecord {
    pub user_name: UserName,
    pub id: ImageId,
    pub status: ImageStatus,
    pub failure_reason: Option<String>,
    pub content_type: String,
    pub size: u64,
    pub width: Option<u32>,
    pub height: Option<u32>,
    /// EXIF DateTimeOriginal as written in the photo (no time zone).
    pub taken_at: Option<String>,
    pub created_at: OffsetDateTime,
    pub labels: Vec<Label>,
    /// Empty until analysed, and on tiers without `features.faces`.
    pub faces: Vec<Face>,
    /// The lines of text in the photo, all of them (tiers with `features.text`).
    pub text: Vec<TextLine>,
    /// The words it is found by: the most confident distinct ones, normalised, at most the
    /// tier's `text.max_words`.
    pub words: Vec<String>,
    /// The average colour (`#rrggbb`), set by the analysis that wrote the thumbnail and preview
    /// ([`thumbnail_key`], [`preview_key`]); none before (photos analysed earlier have none).
    pub color: Option<String>,
    /// The S3 ETag of the bytes checked at `/complete`, for a photo the client put through a
    /// presigned URL: the analyzer reads only that version, so bytes put again through the
    /// same URL afterwards are refused, not analysed. `None` for photos the API stored itself.
    pub object_etag: Option<String>,
    /// The user marked it a favourite (`PUT /images/{id}/favourite`).
    pub favourite: bool,
    /// Where it was taken (set by its analysis from EXIF GPS; none without a position, or far
    /// from any populated place).
    pub place: Option<crate::places::Place>,
    /// How many times the record was written since its upload: a store writes a record read
    /// at revision n only if it is still at n (and makes it n + 1), so that an analysis, a
    /// correction and a deletion racing each other can neither lose a write nor count twice.
    pub revision: u64,
}

impl ImageRecord {
    /// The record once `analysis` is stored: what was found in the photo, and ready. The one
    /// place an analysis becomes a record, whichever store keeps it.
    pub fn analysed(&self, analysis: &Analysis) -> ImageRecord {
        ImageRecord {
            labels: analysis.labels.clone(),
            faces: analysis.face_records(),
            text: analysis.text.clone(),
            words: analysis.words.clone(),
            color: analysis.color.clone(),
            place: analysis.place.clone(),
            status: ImageStatus::Ready,
            failure_reason: None,
            revision: self.revision + 1,
            ..self.clone()
        }
    }

    /// The object's key: always under the owner's prefix, never from client input.
    pub fn object_key(&self) -> String {
        object_key(&self.user_name, self.id)
    }
}

pub fn object_key(user: &UserName, id: ImageId) -> String {
    format!("{user}/{id}")
}

/// A face's crop, under its photo's key (deleting the photo's prefix takes them along).
pub fn face_crop_key(user: &UserName, face: FaceId) -> String {
    format!("{}/face-{}.jpg", object_key(user, face.image), face.index)
}

/// The gallery's grid thumbnail (WebP), under its photo's key like the face crops.
pub fn thumbnail_key(user: &UserName, id: ImageId) -> String {
    format!("{}/thumbnail.webp", object_key(user, id))
}

/// The photo view's preview (JPEG, EXIF orientation applied).
pub fn preview_key(user: &UserName, id: ImageId) -> String {
    format!("{}/preview.jpg", object_key(user, id))
}

/// Whether an object of the user's prefix is a face crop (not a photo).
pub fn is_face_crop_key(key: &str) -> bool {
    key.rsplit_once('/').is_some_and(|(photo, name)| photo.contains('/') && name.starts_with("face-"))
}

/// One photo a search found (by labels, persons and words): what a result shows of it.
#[derive(Debug, Clone, PartialEq)]
pub struct SearchMatch {
    pub id: ImageId,
    pub labels: Vec<String>,
    pub content_type: String,
    pub created_at: OffsetDateTime,
    /// EXIF DateTimeOriginal as written ([`ImageRecord::taken_at`]).
    pub taken_at: Option<String>,
    /// What a grid lays the photo out with before its thumbnail loads.
    pub width: Option<u32>,
    pub height: Option<u32>,
    pub color: Option<String>,
}

impl SearchMatch {
    /// Where a page ending at this photo resumes.
    pub fn cursor(&self) -> SearchCursor {
        SearchCursor { id: self.id, taken_key: Some(crate::taken::taken_key(self.taken_at.as_deref(), self.created_at)) }
    }
}

/// Where a search's next page starts: after photo `id`, which a search in time order
/// ([`Search::in_time_order`]) finds at its [`crate::taken::taken_key`] (a search in upload
/// order needs the id alone).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SearchCursor {
    pub id: ImageId,
    pub taken_key: Option<String>,
}

impl SearchCursor {
    /// The taken key to resume a search in time order at; a cursor without one was made by a
    /// search in upload order and cannot resume this one.
    pub fn taken_key(&self) -> Result<&str> {
        self.taken_key
            .as_deref()
            .ok_or_else(|| Error::invalid("invalid_cursor", "this cursor is of another search: start this one without it"))
    }
}

/// What a search asks for: images carrying every label, showing every person and every word.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Search {
    pub labels: Vec<String>,
    pub persons: Vec<PersonId>,
    /// Normalised words ([`normalize_word`]).
    pub words: Vec<String>,
    /// Folded place names ([`crate::places::fold_name`]): a city, region or country.
    pub places: Vec<String>,
    /// When the photos were taken, on the user's clock.
    pub taken: Option<crate::taken::TakenRange>,
}

/// An AND search over more terms (labels, persons, words and places together) than this is
/// refused.
pub const MAX_SEARCH_TERMS: usize = 10;

impl Search {
    pub fn labels(labels: &[String]) -> Self {
        Self { labels: labels.to_vec(), ..Self::default() }
    }

    /// A search from what a client asked: labels, words and places normalised
    /// ([`normalize_label`], [`normalize_word`], [`crate::places::fold_name`]), person ids
    /// parsed, each term once, at most [`MAX_SEARCH_TERMS`] in all; a time range, or at least
    /// one term.
    pub fn of_terms(
        labels: &[String],
        persons: &[String],
        words: &[String],
        places: &[String],
        taken: Option<crate::taken::TakenRange>,
    ) -> Result<Search> {
        let mut labels = labels.iter().map(|label| normalize_label(label)).collect::<Result<Vec<_>>>()?;
        labels.sort();
        labels.dedup();
        let mut persons = persons.iter().map(|person| PersonId::parse(person)).collect::<Result<Vec<_>>>()?;
        persons.sort();
        persons.dedup();
        let invalid_word = || Error::invalid("invalid_text", format!("a word has 1 to {MAX_WORD_CHARS} letters or digits"));
        let mut words = words.iter().map(|word| normalize_word(word).ok_or_else(invalid_word)).collect::<Result<Vec<_>>>()?;
        words.sort();
        words.dedup();
        let invalid_place = || Error::invalid("invalid_place", "a place is a city, region or country name: ?place=lisbon");
        let mut places = places
            .iter()
            .map(|place| crate::places::fold_name(place).filter(|name| name.chars().count() <= 100).ok_or_else(invalid_place))
            .collect::<Result<Vec<_>>>()?;
        places.sort();
        places.dedup();
        let count = labels.len() + persons.len() + words.len() + places.len();
        if (count == 0 && taken.is_none()) || count > MAX_SEARCH_TERMS {
            return Err(Error::invalid(
                "invalid_labels",
                format!(
                    "search takes up to {MAX_SEARCH_TERMS} labels, persons, words and places, and a time range, at least one of \
                     them: ?label=cat&person=<id>&text=invoice&place=lisbon&taken_from=2024-06-01&taken_to=2024-08-31"
                ),
            ));
        }
        Ok(Search { labels, persons, words, places, taken })
    }

    /// Photos taken in `range`, and nothing else asked.
    pub fn taken(range: crate::taken::TakenRange) -> Self {
        Self { taken: Some(range), ..Self::default() }
    }

    /// Whether its results come in the order the photos were taken (newest first), not the
    /// order they were uploaded in: when it has a time range and names no person, word or
    /// place (each of those is on few photos, read in upload order and filtered by time).
    pub fn in_time_order(&self) -> bool {
        self.taken.is_some() && self.persons.is_empty() && self.words.is_empty() && self.places.is_empty()
    }

    /// Whether a photo taken at `taken_at` (EXIF) and uploaded at `created_at` is in its time
    /// range (any is, without one).
    pub fn holds_time(&self, taken_at: Option<&str>, created_at: OffsetDateTime) -> bool {
        self.taken.as_ref().is_none_or(|range| range.holds(taken_at, created_at))
    }
}

/// A page of results and where the next starts.
#[derive(Debug, Clone, PartialEq)]
pub struct Page<T, C> {
    pub items: Vec<T>,
    pub next: Option<C>,
}

/// A label of a user's photos: how many carry it, and the newest one analysed with it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Album {
    pub label: String,
    pub photos: u64,
    pub cover: Option<ImageId>,
}

/// A user's current usage, which the quotas limit.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Usage {
    pub photos: u64,
    pub bytes: u64,
}

/// A stored object's size and the ETag of its content.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ObjectVersion {
    pub size: u64,
    pub etag: String,
}

/// `time` without its fraction of a second, as stored timestamps are kept (RFC 3339 to the
/// second).
pub fn whole_seconds(time: OffsetDateTime) -> OffsetDateTime {
    time.replace_nanosecond(0).unwrap_or(time)
}

/// Milliseconds since the epoch: how limits and throttles count time.
pub fn epoch_ms(time: OffsetDateTime) -> i64 {
    i64::try_from(time.unix_timestamp_nanos() / 1_000_000).unwrap_or(i64::MAX)
}

/// `N` bytes from the operating system's random source: every secret and unguessable name.
pub fn random_bytes<const N: usize>() -> Result<[u8; N]> {
    let mut random = [0u8; N];
    getrandom::fill(&mut random).map_err(|err| Error::Internal(format!("no randomness: {err}")))?;
    Ok(random)
}

/// RFC 3339, as every timestamp of the API is written.
pub fn rfc3339(time: OffsetDateTime) -> String {
    time.format(&time::format_description::well_known::Rfc3339).unwrap_or_else(|_| time.unix_timestamp().to_string())
}

pub fn parse_rfc3339(value: &str) -> Result<OffsetDateTime> {
    OffsetDateTime::parse(value, &time::format_description::well_known::Rfc3339)
        .map_err(|err| Error::Internal(format!("stored time {value:?} is not RFC 3339: {err}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_are_folded_to_letters_and_digits() {
        assert_eq!(normalize_word("Here,"), Some("here".into()));
        assert_eq!(normalize_word("Café"), Some("cafe".into()));
        assert_eq!(normalize_word("Région-based"), Some("regionbased".into()));
        assert_eq!(normalize_word("2026"), Some("2026".into()));
        assert_eq!(normalize_word("—"), None);
        assert_eq!(normalize_word(&"a".repeat(MAX_WORD_CHARS + 1)), None);
    }

    #[test]
    fn a_photos_words_are_distinct_most_confident_lines_first_and_bounded() {
        let line = |text: &str, confidence: f32| TextLine {
            text: text.into(),
            bounds: PhotoRegion { left: 0.0, top: 0.0, width: 1.0, height: 0.1 },
            confidence,
        };
        let lines = [line("the coins and the", 0.7), line("The Markers!", 0.99)];
        assert_eq!(words_of(&lines, 10), ["the", "markers", "coins", "and"]);
        assert_eq!(words_of(&lines, 2), ["the", "markers"]);
    }

    #[test]
    fn joined_words_are_found_by_their_parts_too() {
        let line = |text: &str| TextLine {
            text: text.into(),
            bounds: PhotoRegion { left: 0.0, top: 0.0, width: 1.0, height: 0.1 },
            confidence: 0.9,
        };
        // A caption's initials joined to a surname: the surname alone finds it.
        assert_eq!(words_of(&[line("A.B.JONES, C.SMITH")], 10), ["abjones", "jones", "csmith", "smith"]);
        assert_eq!(words_of(&[line("pre-training")], 10), ["pretraining", "pre", "training"]);
        assert_eq!(words_of(&[line("www.example.org")], 10), ["wwwexampleorg", "www", "example", "org"]);
        // Nothing joined: the word alone, as before; a lone part of one character is no word.
        assert_eq!(words_of(&[line("Here, 3.5 x-ray")], 10), ["here", "35", "xray", "ray"]);
        assert_eq!(words_of(&[line("- . --")], 10), Vec::<String>::new());
    }
}

#[cfg(test)]
mod properties {
    use proptest::prelude::*;

    use super::*;

    proptest! {
        /// Crafted user names, ids and words are refused or accepted, never a panic; what is
        /// accepted round-trips and stays inside a key's grammar.
        #[test]
        fn outside_names_and_ids_parse_or_fail_cleanly(text in ".{0,80}") {
            if let Ok(name) = UserName::parse(&text) {
                prop_assert_eq!(name.as_str(), text.as_str());
                prop_assert!(!name.as_str().contains(['#', '/']));
            }
            if let Ok(id) = ImageId::parse(&text) {
                prop_assert_eq!(ImageId::parse(&id.to_string()).unwrap(), id);
            }
            let _ = PersonId::parse(&text);
            let _ = FaceId::parse(&text);
            let _ = normalize_label(&text);
            let _ = normalize_word(&text);
        }

        #[test]
        fn valid_user_names_are_accepted(name in "[a-z][a-z0-9_-]{2,31}") {
            prop_assert!(UserName::parse(&name).is_ok());
        }
    }

    #[test]
    fn new_ids_round_trip() {
        for _ in 0..100 {
            let id = ImageId::new();
            assert_eq!(ImageId::parse(&id.to_string()).unwrap(), id);
        }
    }
}
