//! The model encodings of formats 1.1 and 1.2, read and never written: before extension
//! blocks, each new feature of a neighbour or factor model added a wire shape of its own, with
//! the features before it as fixed or optional fields. Their variant numbers in
//! [`super::recommender::ModelWire`] stay reserved, so every file of those versions keeps
//! decoding to the model it was written from. This writer puts the same models in the 1.0
//! shapes or in the shapes with extension blocks (`super::extension`).

use serde::{Deserialize, Serialize};

use super::ReadWire;
use super::extension::read_feature;
use super::factors::{ContentWire, ContextWire, ExplorationWire, FactorParts, FactorsWire};
use super::neighbors::{
    ListsWire, NeighborParts, SessionNeighborsWire, SessionPairsWire, TimelineWire,
};
use super::parts::ModelParts;
use crate::format::read::{Read, Reader};
use crate::format::{
    CAP_CONTENT, CAP_CONTEXT, CAP_EXPLORATION, CAP_HISTORY_DECAY, CAP_POPULARITY_TIMELINE,
    CAP_SESSION_NEIGHBORS, CAP_SESSION_PAIRS, CAP_SESSION_POPULARITY, CAP_TRANSITIONS,
};

/// Variant 3 (1.1, `CAP_HISTORY_DECAY`): neighbour lists with their history decay.
#[derive(Debug, Serialize, Deserialize)]
pub(crate) struct NeighborsDecay<'a> {
    #[serde(borrow)]
    pub lists: ListsWire<'a>,
    pub history_decay: f32,
}

/// Variant 4 (1.1, `CAP_CONTENT`): neighbour lists with their history decay and item content.
#[derive(Debug, Serialize, Deserialize)]
pub(crate) struct NeighborsContent<'a> {
    #[serde(borrow)]
    pub lists: ListsWire<'a>,
    pub history_decay: f32,
    #[serde(borrow)]
    pub content: ContentWire<'a>,
}

/// Variant 5 (1.1, `CAP_CONTENT`): factors with the projection of item metadata.
#[derive(Debug, Serialize, Deserialize)]
pub(crate) struct FactorsContent<'a> {
    #[serde(borrow)]
    pub factors: FactorsWire<'a>,
    #[serde(borrow)]
    pub content: ContentWire<'a>,
}

/// Variant 6 (1.1, `CAP_EXPLORATION`, `CAP_CONTEXT`): factors with optional exploration,
/// context and content.
#[derive(Debug, Serialize, Deserialize)]
pub(crate) struct FactorsExtended<'a> {
    #[serde(borrow)]
    pub factors: FactorsWire<'a>,
    pub exploration: Option<ExplorationWire>,
    #[serde(borrow)]
    pub context: Option<ContextWire<'a>>,
    #[serde(borrow)]
    pub content: Option<ContentWire<'a>>,
}

/// The fields that open variants 7 to 11: the lists, their history decay and the
/// short-session prior (bincode writes a nested struct as its fields in order).
#[derive(Debug, Serialize, Deserialize)]
pub(crate) struct Head<'a> {
    #[serde(borrow)]
    pub lists: ListsWire<'a>,
    pub history_decay: f32,
    pub session_popularity: f32,
}

/// Variant 7 (1.1, `CAP_SESSION_POPULARITY`): neighbour lists with their decay, the
/// short-session prior and optional content.
#[derive(Debug, Serialize, Deserialize)]
pub(crate) struct NeighborsExtended<'a> {
    #[serde(borrow)]
    pub head: Head<'a>,
    #[serde(borrow)]
    pub content: Option<ContentWire<'a>>,
}

/// Variant 8 (1.1, `CAP_POPULARITY_TIMELINE`): variant 7 with the prior's timeline.
#[derive(Debug, Serialize, Deserialize)]
pub(crate) struct NeighborsTimed<'a> {
    #[serde(borrow)]
    pub head: Head<'a>,
    #[serde(borrow)]
    pub timeline: TimelineWire<'a>,
    #[serde(borrow)]
    pub content: Option<ContentWire<'a>>,
}

/// Variant 9 (1.1, `CAP_SESSION_NEIGHBORS`): with session neighbours, the timeline optional.
#[derive(Debug, Serialize, Deserialize)]
pub(crate) struct NeighborsSession<'a> {
    #[serde(borrow)]
    pub head: Head<'a>,
    #[serde(borrow)]
    pub timeline: Option<TimelineWire<'a>>,
    pub session_neighbors: SessionNeighborsWire,
    #[serde(borrow)]
    pub content: Option<ContentWire<'a>>,
}

/// Variant 10 (1.1, `CAP_TRANSITIONS`): with transition lists, session neighbours optional.
#[derive(Debug, Serialize, Deserialize)]
pub(crate) struct NeighborsTransitions<'a> {
    #[serde(borrow)]
    pub head: Head<'a>,
    #[serde(borrow)]
    pub timeline: Option<TimelineWire<'a>>,
    pub session_neighbors: Option<SessionNeighborsWire>,
    #[serde(borrow)]
    pub transitions: ListsWire<'a>,
    #[serde(borrow)]
    pub content: Option<ContentWire<'a>>,
}

/// Variant 11 (1.2, `CAP_SESSION_PAIRS`): session neighbours read from session pairs,
/// transition lists optional.
#[derive(Debug, Serialize, Deserialize)]
pub(crate) struct NeighborsPairs<'a> {
    #[serde(borrow)]
    pub head: Head<'a>,
    #[serde(borrow)]
    pub timeline: Option<TimelineWire<'a>>,
    pub session_neighbors: SessionNeighborsWire,
    #[serde(borrow)]
    pub session_pairs: SessionPairsWire<'a>,
    #[serde(borrow)]
    pub transitions: Option<ListsWire<'a>>,
    #[serde(borrow)]
    pub content: Option<ContentWire<'a>>,
}

/// Neighbour parts with the fields every legacy neighbour shape holds.
#[cfg(feature = "write")]
fn neighbors<'a>(
    lists: ListsWire<'a>,
    history_decay: f32,
    session_popularity: f32,
) -> NeighborParts<'a> {
    NeighborParts {
        history_decay,
        session_popularity,
        ..NeighborParts::new(lists)
    }
}

/// Bit number of a capability flag (one bit set).
#[allow(clippy::cast_possible_truncation)] // at most 64
const fn bit(flag: u64) -> u8 {
    flag.trailing_zeros() as u8
}

/// Marks a feature stored as an `Option` in [`SHAPES`].
const OPTIONAL: u8 = 0x80;

/// Each legacy shape as its base (neighbour lists or factors) followed by the fields of its
/// features in wire order, each feature's fields as its extension block holds them: per
/// feature its capability bit number, with [`OPTIONAL`] when it is stored as an `Option`.
/// Variants 3 to 11, in order.
const SHAPES: [(bool, &[u8]); 9] = {
    const NEIGHBORS: bool = true;
    const FACTORS: bool = false;
    const DECAY: u8 = bit(CAP_HISTORY_DECAY);
    const PRIOR: u8 = bit(CAP_SESSION_POPULARITY);
    const TIMELINE: u8 = bit(CAP_POPULARITY_TIMELINE);
    const SESSION: u8 = bit(CAP_SESSION_NEIGHBORS);
    const TRANSITIONS: u8 = bit(CAP_TRANSITIONS);
    const CONTENT: u8 = bit(CAP_CONTENT);
    const O: u8 = OPTIONAL;
    [
        (NEIGHBORS, &[DECAY]),
        (NEIGHBORS, &[DECAY, CONTENT]),
        (FACTORS, &[CONTENT]),
        (
            FACTORS,
            &[bit(CAP_EXPLORATION) | O, bit(CAP_CONTEXT) | O, CONTENT | O],
        ),
        (NEIGHBORS, &[DECAY, PRIOR, CONTENT | O]),
        (NEIGHBORS, &[DECAY, PRIOR, TIMELINE, CONTENT | O]),
        (
            NEIGHBORS,
            &[DECAY, PRIOR, TIMELINE | O, SESSION, CONTENT | O],
        ),
        (
            NEIGHBORS,
            &[
                DECAY,
                PRIOR,
                TIMELINE | O,
                SESSION | O,
                TRANSITIONS,
                CONTENT | O,
            ],
        ),
        (
            NEIGHBORS,
            &[
                DECAY,
                PRIOR,
                TIMELINE | O,
                SESSION,
                bit(CAP_SESSION_PAIRS),
                TRANSITIONS | O,
                CONTENT | O,
            ],
        ),
    ]
};

/// A legacy variant (3 to 11) read by hand into its parts.
pub(crate) fn read<'a>(variant: u32, r: &mut Reader<'a>) -> Read<ModelParts<'a>> {
    let Some(&(neighbors, features)) = variant
        .checked_sub(3)
        .and_then(|i| SHAPES.get(usize::try_from(i).ok()?))
    else {
        return Err(format!("unknown model variant {variant}"));
    };
    let mut model = if neighbors {
        ModelParts::Neighbors(NeighborParts::new(ListsWire::read(r)?))
    } else {
        ModelParts::Factors(FactorParts::new(FactorsWire::read(r)?))
    };
    for &f in features {
        if f & OPTIONAL == 0 || r.option_tag()? {
            read_feature(&mut model, 1 << (f & 63), r)?;
        }
    }
    Ok(model)
}

/// The legacy shapes as bincode decoded them, into their parts (the differential tests).
#[cfg(feature = "write")]
pub(crate) mod parts {
    use super::*;

    impl<'a> Head<'a> {
        fn parts(self) -> NeighborParts<'a> {
            neighbors(self.lists, self.history_decay, self.session_popularity)
        }
    }

    impl<'a> NeighborsDecay<'a> {
        pub(crate) fn into_parts(self) -> ModelParts<'a> {
            ModelParts::Neighbors(neighbors(self.lists, self.history_decay, 0.0))
        }
    }

    impl<'a> NeighborsContent<'a> {
        pub(crate) fn into_parts(self) -> ModelParts<'a> {
            ModelParts::Neighbors(NeighborParts {
                content: Some(self.content),
                ..neighbors(self.lists, self.history_decay, 0.0)
            })
        }
    }

    impl<'a> FactorsContent<'a> {
        pub(crate) fn into_parts(self) -> ModelParts<'a> {
            ModelParts::Factors(FactorParts {
                content: Some(self.content),
                ..FactorParts::new(self.factors)
            })
        }
    }

    impl<'a> FactorsExtended<'a> {
        pub(crate) fn into_parts(self) -> ModelParts<'a> {
            ModelParts::Factors(FactorParts {
                factors: self.factors,
                exploration: self.exploration,
                context: self.context,
                content: self.content,
            })
        }
    }

    impl<'a> NeighborsExtended<'a> {
        pub(crate) fn into_parts(self) -> ModelParts<'a> {
            ModelParts::Neighbors(NeighborParts {
                content: self.content,
                ..self.head.parts()
            })
        }
    }

    impl<'a> NeighborsTimed<'a> {
        pub(crate) fn into_parts(self) -> ModelParts<'a> {
            ModelParts::Neighbors(NeighborParts {
                timeline: Some(self.timeline),
                content: self.content,
                ..self.head.parts()
            })
        }
    }

    impl<'a> NeighborsSession<'a> {
        pub(crate) fn into_parts(self) -> ModelParts<'a> {
            ModelParts::Neighbors(NeighborParts {
                timeline: self.timeline,
                session_neighbors: Some(self.session_neighbors),
                content: self.content,
                ..self.head.parts()
            })
        }
    }

    impl<'a> NeighborsTransitions<'a> {
        pub(crate) fn into_parts(self) -> ModelParts<'a> {
            ModelParts::Neighbors(NeighborParts {
                timeline: self.timeline,
                session_neighbors: self.session_neighbors,
                transitions: Some(self.transitions),
                content: self.content,
                ..self.head.parts()
            })
        }
    }

    impl<'a> NeighborsPairs<'a> {
        pub(crate) fn into_parts(self) -> ModelParts<'a> {
            ModelParts::Neighbors(NeighborParts {
                timeline: self.timeline,
                session_neighbors: Some(self.session_neighbors),
                session_pairs: Some(self.session_pairs),
                transitions: self.transitions,
                content: self.content,
                ..self.head.parts()
            })
        }
    }
}
