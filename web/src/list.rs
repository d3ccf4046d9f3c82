//! The start page: every published chart with a live thumbnail (its latest frame,
//! refreshed), and "new chart". Opening a chart edits it.

use serde::Deserialize;

use crate::html::escape;

/// One chart from `GET /api/charts`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct ChartInfo {
    /// Id.
    pub id: String,
    /// Published version.
    pub version: u64,
    /// Last publish time, ms since the epoch.
    #[serde(default)]
    pub updated_ms: i64,
}

/// `GET /api/charts`'s answer.
#[derive(Debug, Clone, Deserialize)]
pub struct ChartList {
    /// The charts.
    pub charts: Vec<ChartInfo>,
}

/// The chart cards.
pub fn list_html(charts: &[ChartInfo]) -> String {
    if charts.is_empty() {
        return "<p class=\"empty\">No charts published yet.</p>".into();
    }
    charts
        .iter()
        .map(|chart| {
            let id = escape(&chart.id);
            format!(
                "<a class=\"card\" href=\"#/edit/{id}\" data-chart=\"{id}\">\
                 <img data-thumb=\"{id}\" src=\"/charts/{id}.jpg\" alt=\"{id}\">\
                 <span>{id} <small>v{}</small></span></a>",
                chart.version
            )
        })
        .collect()
}

#[cfg(target_arch = "wasm32")]
pub use browser::{load, refresh_thumbnails};

#[cfg(target_arch = "wasm32")]
mod browser {
    //! Loading the list and refreshing the thumbnails.

    use wasm_bindgen::JsCast;
    use wasm_bindgen_futures::JsFuture;
    use web_sys::{HtmlImageElement, Response, Url};

    use super::{list_html, ChartList};
    use crate::{api, dom};

    /// Fetches the chart list and shows it.
    pub async fn load() {
        match api::get_json::<ChartList>("/api/charts").await {
            Ok(list) => {
                if let Some(container) = dom::by_id("chart-list") {
                    container.set_inner_html(&list_html(&list.charts));
                }
            }
            Err(error) => dom::show_error(&error.to_string()),
        }
    }

    /// Fetches each thumbnail's latest frame again and swaps it in when it arrived
    /// (the server sends no-store, and an `<img>` does not reload an unchanged `src`).
    pub async fn refresh_thumbnails() {
        let Some(images) =
            dom::by_id("chart-list").and_then(|c| c.query_selector_all("img[data-thumb]").ok())
        else {
            return;
        };
        for i in 0..images.length() {
            let Some(image) = images
                .item(i)
                .and_then(|n| n.dyn_into::<HtmlImageElement>().ok())
            else {
                continue;
            };
            let Some(id) = image.get_attribute("data-thumb") else {
                continue;
            };
            let Some(window) = dom::window() else {
                return;
            };
            let Ok(response) =
                JsFuture::from(window.fetch_with_str(&format!("/charts/{id}.jpg"))).await
            else {
                continue;
            };
            let Ok(response) = response.dyn_into::<Response>() else {
                continue;
            };
            if !response.ok() {
                continue;
            }
            let Ok(blob) = response.blob() else {
                continue;
            };
            let Ok(blob) = JsFuture::from(blob).await else {
                continue;
            };
            let Ok(blob) = blob.dyn_into::<web_sys::Blob>() else {
                continue;
            };
            if let Ok(url) = Url::create_object_url_with_blob(&blob) {
                let old = image.src();
                image.set_src(&url);
                if old.starts_with("blob:") {
                    let _ = Url::revoke_object_url(&old);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test;

    #[cfg_attr(target_arch = "wasm32", wasm_bindgen_test)]
    #[cfg_attr(not(target_arch = "wasm32"), test)]
    fn cards_link_to_the_editor_with_a_snapshot() {
        let list: ChartList = serde_json::from_str(
            r#"{"charts":[{"id":"temp","version":3,"updated_ms":5,"stream":"/charts/temp.mjpg"}]}"#,
        )
        .expect("list");
        let html = list_html(&list.charts);
        assert!(html.contains("href=\"#/edit/temp\""), "{html}");
        assert!(html.contains("src=\"/charts/temp.jpg\""), "{html}");
        assert!(html.contains("v3"), "{html}");
        assert!(list_html(&[]).contains("No charts"));
    }
}
