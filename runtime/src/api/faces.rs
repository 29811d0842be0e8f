//! `/faces`: the user's corrections of grouping, one face at a time.

use axum::Json;
use axum::extract::Path;
use serde::Deserialize;
use utoipa::ToSchema;

use super::error::ApiResult;
use super::extract::{CurrentUser, JsonBody};
use super::images::FaceView;
use crate::error::{Error, Result};
use domain::{FaceId, PersonId};

/// What `PUT /faces/{id}` sets: the face's person, or null for a new person of its own.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct FaceAssignment {
    /// A person of the user, or null: the face becomes a person of its own. Required.
    #[serde(default, deserialize_with = "super::extract::present")]
    #[schema(value_type = Option<String>, required = true)]
    pub person_id: Option<Option<String>>,
}

impl FaceAssignment {
    fn person(self) -> Result<Option<PersonId>> {
        let person =
            self.person_id.ok_or_else(|| Error::invalid("invalid_request", "send person_id: a person's id, or null for a new person"))?;
        person.as_deref().map(PersonId::parse).transpose()
    }
}

/// Move a face to another of the user's persons, or (`person_id` null) to a new person of its
/// own. The correction holds: later grouping never moves the face back, and the person it left
/// no longer draws new photos by it. A person left with no face is gone.
#[utoipa::path(put, path = "/faces/{id}", tag = "persons", security(("bearer" = [])),
    params(("id" = String, Path, description = "face id, `<image id>-<n>`")),
    request_body = FaceAssignment,
    responses((status = 200, body = FaceView), (status = 400, description = "invalid id or body"),
        (status = 404, description = "no such face or person"),
        (status = 409, description = "same_photo: the person has another face of this photo")))]
pub async fn move_face(
    user: CurrentUser,
    Path(id): Path<String>,
    JsonBody(assignment): JsonBody<FaceAssignment>,
) -> ApiResult<Json<FaceView>> {
    let face = FaceId::parse(&id)?;
    let person = assignment.person()?;
    let moved = user.data.images.move_face(user.name(), face, person).await?;
    Ok(Json(FaceView::of(face.image, &moved)))
}
