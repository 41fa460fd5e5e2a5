//! User profiles: one known user's slice cut from this engine's model (the server side of
//! `GET /users/{userId}/profile`), or loaded into it (`loadUserProfile` in the browser), after
//! which that user is a known user of this engine. See [`crate::user_slice`].

use std::sync::{Arc, Mutex};

use super::{Engine, FILTER_CACHE_CAPACITY};
use crate::error::SliceError;
use crate::filter::FilterCache;
use crate::format;
use crate::user_slice::UserSlice;

impl Engine {
    /// The id that ties user profiles to this engine's model ([`crate::user_slice::model_id`]
    /// of the model as it was decoded).
    #[must_use]
    pub fn model_id(&self) -> u64 {
        self.model_id
    }

    /// The slice of the known user `user_id`, `None` when the model does not know them.
    #[must_use]
    pub fn user_slice(&self, user_id: &str) -> Option<UserSlice> {
        let row = self.user_index(user_id)?;
        Some(UserSlice::of_row(&self.model, row as usize, self.model_id))
    }

    /// [`Engine::user_slice`] as bytes ([`format::slice::encode`]).
    #[must_use]
    pub fn user_profile(&self, user_id: &str) -> Option<Vec<u8>> {
        self.user_slice(user_id).map(|s| format::slice::encode(&s))
    }

    /// Loads a user profile (bytes from [`Engine::user_profile`] of an engine over the same
    /// model, typically its private profile): the user becomes a known user of this engine,
    /// answered as that engine answers them. Returns the user's id. A profile for another model
    /// is refused with [`SliceError::ModelMismatch`]; nothing changes on any error.
    pub fn load_user_profile(&mut self, bytes: &[u8]) -> Result<String, SliceError> {
        let slice = format::slice::decode(bytes)?;
        self.load_user_slice(&slice)?;
        Ok(slice.user_id().to_owned())
    }

    /// [`Engine::load_user_profile`] of a decoded slice. Loading a user again replaces their
    /// data; a live session of theirs is attached to them and its fold-in recomputed.
    pub fn load_user_slice(&mut self, slice: &UserSlice) -> Result<(), SliceError> {
        if slice.model_id != self.model_id {
            return Err(SliceError::ModelMismatch {
                profile: slice.model_id,
                engine: self.model_id,
            });
        }
        slice.check_fits(&self.model)?;
        let ids = Arc::make_mut(&mut self.ids);
        let row = slice.apply(Arc::make_mut(&mut self.model), &mut ids.1);
        // Compiled plans know the user table's size and content.
        self.filters = Arc::new(Mutex::new(FilterCache::new(FILTER_CACHE_CAPACITY)));
        let user = slice.user_id();
        if self.sessions.get(user).is_some() {
            self.sessions.entry(user).user = Some(row);
            self.refresh_vectors(user);
        }
        Ok(())
    }
}
