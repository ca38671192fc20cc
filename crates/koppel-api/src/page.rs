//! The answer of every list, written once: a page of items and the cursor of the next page.
//!
//! Each list keeps its own component name and words in the OpenAPI document (clients generated
//! from it name their types after them, and the words say what order a page is in and what
//! its cursor means), so the schema is written by hand from a [`Listing`]: one marker type per
//! list, naming the item, the name and the words. The schema is exactly what deriving
//! `ToSchema` on a `{ data: Vec<Item>, next_cursor: Option<String> }` struct gave.

use std::borrow::Cow;

use serde::{Deserialize, Serialize};
use utoipa::openapi::schema::{ArrayBuilder, ObjectBuilder, Schema, SchemaType, Type};
use utoipa::openapi::{Ref, RefOr};
use utoipa::{PartialSchema, ToSchema};

/// What one list is: its item, and how the OpenAPI document names and describes its page.
pub trait Listing {
    /// What the page holds.
    type Item: ToSchema;
    /// The schema's name, e.g. `ReceiptList`.
    const NAME: &'static str;
    /// The schema's description.
    const DESCRIPTION: &'static str;
    /// The description of `data`: what is on the page, in what order.
    const DATA: &'static str;
    /// The description of `next_cursor`.
    const CURSOR: &'static str = "Pass as `cursor` for the next page; null on the last page.";
}

/// A page of a list.
#[derive(Debug, Serialize, Deserialize)]
#[serde(bound(
    serialize = "L::Item: Serialize",
    deserialize = "L::Item: Deserialize<'de>"
))]
pub struct Page<L: Listing> {
    /// The items on this page.
    pub data: Vec<L::Item>,
    /// Where the next page starts; null on the last.
    pub next_cursor: Option<String>,
}

impl<L: Listing> PartialSchema for Page<L> {
    fn schema() -> RefOr<Schema> {
        let item = RefOr::Ref(Ref::from_schema_name(L::Item::name()));
        ObjectBuilder::new()
            .description(Some(L::DESCRIPTION))
            .property(
                "data",
                ArrayBuilder::new().items(item).description(Some(L::DATA)),
            )
            .required("data")
            .property(
                "next_cursor",
                ObjectBuilder::new()
                    .schema_type(SchemaType::from_iter([Type::String, Type::Null]))
                    .description(Some(L::CURSOR)),
            )
            .into()
    }
}

impl<L: Listing> ToSchema for Page<L> {
    fn name() -> Cow<'static, str> {
        Cow::Borrowed(L::NAME)
    }

    fn schemas(schemas: &mut Vec<(String, RefOr<Schema>)>) {
        schemas.push((L::Item::name().into_owned(), L::Item::schema()));
        L::Item::schemas(schemas);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug)]
    enum Numbers {}

    impl Listing for Numbers {
        type Item = String;
        const NAME: &'static str = "NumberList";
        const DESCRIPTION: &'static str = "A page of numbers.";
        const DATA: &'static str = "The numbers, smallest first.";
    }

    #[test]
    fn a_page_is_data_and_a_cursor_under_its_listings_name_and_words() {
        let page = Page::<Numbers> {
            data: vec!["1".to_owned()],
            next_cursor: None,
        };
        let json = serde_json::to_value(&page).unwrap();
        assert_eq!(
            json,
            serde_json::json!({"data": ["1"], "next_cursor": null})
        );
        let back: Page<Numbers> = serde_json::from_value(json).unwrap();
        assert_eq!(back.data, ["1"]);
        assert_eq!(Page::<Numbers>::name(), "NumberList");
        let schema = serde_json::to_value(Page::<Numbers>::schema()).unwrap();
        assert_eq!(schema["description"], "A page of numbers.");
        assert_eq!(schema["required"], serde_json::json!(["data"]));
        assert_eq!(
            schema["properties"]["data"]["description"],
            "The numbers, smallest first."
        );
        assert_eq!(
            schema["properties"]["next_cursor"]["type"],
            serde_json::json!(["string", "null"])
        );
    }
}
