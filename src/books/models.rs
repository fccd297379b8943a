//! The API's objects. Each keeps the JSON exactly as it arrived, so that
//! `--json` is lossless, beside a typed view of the fields gbooks shows.

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::Value;

/// A `books#volume`.
#[derive(Debug, Clone)]
pub struct Volume {
    pub id: String,
    pub info: VolumeInfo,
    raw: Value,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct VolumeInfo {
    pub title: Option<String>,
    pub subtitle: Option<String>,
    pub authors: Vec<String>,
    pub publisher: Option<String>,
    pub published_date: Option<String>,
    pub description: Option<String>,
    pub industry_identifiers: Vec<Identifier>,
    pub page_count: Option<u64>,
    pub categories: Vec<String>,
    pub language: Option<String>,
    pub preview_link: Option<String>,
    pub info_link: Option<String>,
    pub canonical_volume_link: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct Identifier {
    #[serde(rename = "type")]
    pub kind: String,
    pub identifier: String,
}

impl Volume {
    pub fn from_value(raw: Value) -> Result<Volume, String> {
        let id = raw
            .get("id")
            .and_then(Value::as_str)
            .ok_or("a volume without an id")?
            .to_string();
        // A field of an unexpected type must not hide the rest of the volume.
        let info = raw
            .get("volumeInfo")
            .map(|v| VolumeInfo::deserialize(v).unwrap_or_else(|_| lenient_info(v)))
            .unwrap_or_default();
        Ok(Volume { id, info, raw })
    }

    pub fn raw(&self) -> &Value {
        &self.raw
    }

    pub fn title(&self) -> &str {
        self.info.title.as_deref().unwrap_or("")
    }

    /// The year of `publishedDate`, which may be "1999", "1978-04" or a full date.
    pub fn year(&self) -> &str {
        let date = self.info.published_date.as_deref().unwrap_or("");
        date.split('-').next().unwrap_or("")
    }

    pub fn authors(&self) -> String {
        self.info.authors.join("; ")
    }

    /// The volume's page on Google Books: `canonicalVolumeLink` (over
    /// https), else the page every volume id has.
    pub fn link(&self) -> String {
        match self.info.canonical_volume_link.as_deref().map(str::trim) {
            Some(link) if link.starts_with("https://") => link.to_string(),
            Some(link) if link.starts_with("http://") => format!("https://{}", &link["http://".len()..]),
            _ => format!(
                "https://books.google.com/books?id={}",
                super::query::encode(&self.id)
            ),
        }
    }

    pub fn isbn(&self, kind: &str) -> Option<&str> {
        self.info
            .industry_identifiers
            .iter()
            .find(|i| i.kind == kind)
            .map(|i| i.identifier.as_str())
    }
}

/// Field by field, for a `volumeInfo` whose shape surprised serde as a whole.
fn lenient_info(v: &Value) -> VolumeInfo {
    let s = |k: &str| v.get(k).and_then(Value::as_str).map(str::to_string);
    let list = |k: &str| {
        v.get(k)
            .and_then(Value::as_array)
            .map(|a| a.iter().filter_map(|x| x.as_str().map(str::to_string)).collect())
            .unwrap_or_default()
    };
    VolumeInfo {
        title: s("title"),
        subtitle: s("subtitle"),
        authors: list("authors"),
        publisher: s("publisher"),
        published_date: s("publishedDate"),
        description: s("description"),
        industry_identifiers: v
            .get("industryIdentifiers")
            .and_then(|x| Vec::<Identifier>::deserialize(x).ok())
            .unwrap_or_default(),
        page_count: v.get("pageCount").and_then(Value::as_u64),
        categories: list("categories"),
        language: s("language"),
        preview_link: s("previewLink"),
        info_link: s("infoLink"),
        canonical_volume_link: s("canonicalVolumeLink"),
    }
}

impl Serialize for Volume {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.raw.serialize(s)
    }
}

impl<'de> Deserialize<'de> for Volume {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Volume::from_value(Value::deserialize(d)?).map_err(serde::de::Error::custom)
    }
}

/// A page of `books#volumes`. `items` is absent, not empty, when there is nothing.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct VolumesPage {
    /// Only an estimate, and only a hint to paging: a value of the wrong
    /// type (negative, a string) is ignored rather than failing the page.
    #[serde(default, deserialize_with = "lenient_count")]
    pub total_items: Option<u64>,
    #[serde(default)]
    pub items: Vec<Volume>,
}

fn lenient_count<'de, D: Deserializer<'de>>(d: D) -> Result<Option<u64>, D::Error> {
    Ok(Value::deserialize(d)?.as_u64())
}

/// A `books#bookshelf`.
#[derive(Debug, Clone)]
pub struct Shelf {
    pub id: i64,
    pub title: String,
    pub access: Option<String>,
    pub volume_count: Option<u64>,
    pub updated: Option<String>,
    raw: Value,
}

impl Shelf {
    pub fn from_value(raw: Value) -> Result<Shelf, String> {
        let id = raw
            .get("id")
            .and_then(Value::as_i64)
            .ok_or("a bookshelf without an id")?;
        let s = |k: &str| raw.get(k).and_then(Value::as_str).map(str::to_string);
        Ok(Shelf {
            id,
            title: s("title").unwrap_or_default(),
            access: s("access"),
            volume_count: raw.get("volumeCount").and_then(Value::as_u64),
            updated: s("updated"),
            raw,
        })
    }

    pub fn raw(&self) -> &Value {
        &self.raw
    }

    /// A shelf known only by its id (given as a number on the command line).
    pub fn with_id(id: i64) -> Shelf {
        Shelf {
            id,
            title: String::new(),
            access: None,
            volume_count: None,
            updated: None,
            raw: Value::Null,
        }
    }
}

impl Serialize for Shelf {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.raw.serialize(s)
    }
}

impl<'de> Deserialize<'de> for Shelf {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Shelf::from_value(Value::deserialize(d)?).map_err(serde::de::Error::custom)
    }
}

/// `books#bookshelves`: no paging, and `items` may be absent.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct ShelvesPage {
    #[serde(default)]
    pub items: Vec<Shelf>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_unknown_fields_and_tolerates_odd_types() {
        let v: Volume = serde_json::from_str(
            r#"{"id":"x1","zzz":{"a":1},"volumeInfo":{"title":"T","pageCount":"many","authors":["A","B"],"publishedDate":"1978-04"}}"#,
        )
        .unwrap();
        assert_eq!(v.title(), "T");
        assert_eq!(v.info.page_count, None);
        assert_eq!(v.authors(), "A; B");
        assert_eq!(v.year(), "1978");
        let back = serde_json::to_string(&v).unwrap();
        assert!(back.starts_with(r#"{"id":"x1","zzz":{"a":1}"#), "{back}");
    }

    #[test]
    fn an_odd_total_is_ignored() {
        for total in ["-5", "\"many\"", "null", "1.5"] {
            let p: VolumesPage =
                serde_json::from_str(&format!(r#"{{"totalItems":{total},"items":[{{"id":"a"}}]}}"#)).unwrap();
            assert_eq!((p.total_items, p.items.len()), (None, 1), "{total}");
        }
    }

    #[test]
    fn zero_results_have_no_items() {
        let p: VolumesPage = serde_json::from_str(r#"{"kind":"books#volumes","totalItems":0}"#).unwrap();
        assert!(p.items.is_empty());
    }
}
