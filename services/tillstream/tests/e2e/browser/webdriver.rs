//! Just enough of the W3C WebDriver protocol to drive headless Chromium through Debian's
//! `chromedriver`: open a page, find what a person finds (a labelled field, a named button),
//! type, click, read text, run a script, take a screenshot. A crate such as fantoccini would
//! bring a second HTTP stack into the build for the dozen calls made here.

use std::path::Path;
use std::time::Duration;

use base64::Engine;
use serde_json::{Value, json};
use tillstream_test_support::free_port;
use tokio::process::{Child, Command};

/// The key WebDriver sends for Enter.
pub const ENTER: &str = "\u{E007}";

const ELEMENT: &str = "element-6066-11e4-a52e-4f735466cecf";

/// How long the page may take to show something: generous, because the browser shares two
/// cores with the whole stack and the rest of the suite, and a paused gateway alone costs
/// the register its 5 s limit.
const PATIENCE: Duration = Duration::from_secs(30);

/// Retries `attempt` every 100 ms until it gives a value, for up to [`PATIENCE`].
pub async fn patiently<T, F, Fut>(what: &str, attempt: F) -> T
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Option<T>>,
{
    tillstream_test_support::within(what, PATIENCE, attempt).await
}

/// A `chromedriver` of this test's own and one browser session in it.
pub struct Browser {
    http: reqwest::Client,
    session: String,
    _driver: Child,
}

/// An element of the page, as WebDriver names it.
pub struct Element {
    id: String,
}

fn which(candidates: &[&str]) -> Option<String> {
    candidates
        .iter()
        .find(|path| Path::new(path).exists())
        .map(|path| (*path).to_owned())
}

impl Browser {
    /// Starts `chromedriver` and a headless Chromium of `width`×`height`.
    pub async fn start(width: u32, height: u32) -> Browser {
        let driver_path = which(&["/usr/bin/chromedriver", "/usr/lib/chromium/chromedriver"])
            .expect("chromedriver: `apt-get install chromium chromium-driver` (.ci/run does)");
        let chromium = which(&["/usr/bin/chromium", "/usr/bin/chromium-browser"])
            .expect("chromium: `apt-get install chromium chromium-driver` (.ci/run does)");
        let port = free_port().unwrap();
        let driver = Command::new(driver_path)
            .arg(format!("--port={port}"))
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .unwrap();
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(60))
            .build()
            .unwrap();
        let base = format!("http://127.0.0.1:{port}");
        patiently("chromedriver is ready", || async {
            let status = http.get(format!("{base}/status")).send().await.ok()?;
            let body: Value = status.json().await.ok()?;
            (body["value"]["ready"] == true).then_some(())
        })
        .await;
        let capabilities = json!({"capabilities": {"alwaysMatch": {
            "browserName": "chrome",
            "goog:chromeOptions": {
                "binary": chromium,
                "args": ["--headless=new", "--no-sandbox", "--disable-gpu",
                         "--disable-dev-shm-usage", "--no-first-run",
                         format!("--window-size={width},{height}")],
            },
        }}});
        let created = http
            .post(format!("{base}/session"))
            .json(&capabilities)
            .send()
            .await
            .unwrap()
            .json::<Value>()
            .await
            .unwrap();
        let session = created["value"]["sessionId"]
            .as_str()
            .unwrap_or_else(|| panic!("no browser session: {created}"))
            .to_owned();
        let browser = Browser {
            http,
            session: format!("{base}/session/{session}"),
            _driver: driver,
        };
        // Finding an element waits for it to appear.
        let implicit = u64::try_from(PATIENCE.as_millis()).unwrap();
        browser
            .command("POST", "/timeouts", json!({"implicit": implicit}))
            .await;
        browser
    }

    async fn command(&self, method: &str, path: &str, body: Value) -> Value {
        let url = format!("{}{path}", self.session);
        let request = match method {
            "GET" => self.http.get(url),
            "DELETE" => self.http.delete(url),
            _ => self.http.post(url).json(&body),
        };
        let answer: Value = request.send().await.unwrap().json().await.unwrap();
        if let Some(error) = answer["value"]["error"].as_str() {
            // What the page showed is most of a failure's story.
            let page = self
                .http
                .get(format!("{}/source", self.session))
                .send()
                .await;
            let page = match page {
                Ok(page) => page.json::<Value>().await.unwrap_or_default()["value"].clone(),
                Err(_) => Value::Null,
            };
            panic!(
                "WebDriver {method} {path} {body}: {error}: {}\npage: {}",
                answer["value"]["message"],
                page.as_str().unwrap_or_default()
            );
        }
        answer["value"].clone()
    }

    pub async fn goto(&self, url: &str) {
        self.command("POST", "/url", json!({"url": url})).await;
    }

    /// Sets the window's size (1280×800, a 10-inch tablet's 800×1280).
    pub async fn resize(&self, width: u32, height: u32) {
        self.command(
            "POST",
            "/window/rect",
            json!({"width": width, "height": height}),
        )
        .await;
    }

    /// The first element matching an XPath, waiting for one.
    pub async fn xpath(&self, path: &str) -> Element {
        let found = self
            .command("POST", "/element", json!({"using": "xpath", "value": path}))
            .await;
        Element {
            id: found[ELEMENT].as_str().unwrap().to_owned(),
        }
    }

    /// The input or select a label names, as a screen reader announces it.
    pub async fn field(&self, label: &str) -> Element {
        // A label around its field, or one naming it with `for`.
        self.xpath(&format!(
            "//label[normalize-space(text()[1])='{label}']//*[self::input or self::select] \
             | //*[@id = //label[normalize-space(.)='{label}']/@for]"
        ))
        .await
    }

    /// The button named `name`.
    pub async fn button(&self, name: &str) -> Element {
        self.xpath(&format!("//button[normalize-space(.)='{name}']"))
            .await
    }

    /// Types `text` into the field `label` names, after clearing it.
    pub async fn fill(&self, label: &str, text: &str) {
        let field = self.field(label).await;
        self.clear(&field).await;
        self.type_into(&field, text).await;
    }

    pub async fn type_into(&self, element: &Element, text: &str) {
        self.command(
            "POST",
            &format!("/element/{}/value", element.id),
            json!({"text": text}),
        )
        .await;
    }

    pub async fn clear(&self, element: &Element) {
        self.command("POST", &format!("/element/{}/clear", element.id), json!({}))
            .await;
    }

    pub async fn click(&self, element: &Element) {
        self.command("POST", &format!("/element/{}/click", element.id), json!({}))
            .await;
    }

    /// The element that has the keyboard's focus.
    pub async fn active(&self) -> Element {
        let found = self.command("GET", "/element/active", json!({})).await;
        Element {
            id: found[ELEMENT].as_str().unwrap().to_owned(),
        }
    }

    /// Clicks the button named `name` in the open dialog (the page behind may have one of
    /// the same name).
    pub async fn press_in_dialog(&self, name: &str) {
        let button = self
            .xpath(&format!(
                "//dialog[@open]//button[normalize-space(.)='{name}']"
            ))
            .await;
        self.click(&button).await;
    }

    /// Waits (up to [`PATIENCE`]) until a heading reads `text`.
    pub async fn wait_heading(&self, text: &str) {
        let script = "return [...document.querySelectorAll('h1, h2')].some((h) => h.textContent.trim() === arguments[0]);";
        patiently(&format!("the heading {text:?}"), || async {
            (self.script(script, json!([text])).await == true).then_some(())
        })
        .await;
    }

    /// Clicks the button named `name`.
    pub async fn press(&self, name: &str) {
        let button = self.button(name).await;
        self.click(&button).await;
    }

    /// Chooses the option of the select `label` names whose text starts with `text`.
    pub async fn choose(&self, label: &str, text: &str) {
        let option = self
            .xpath(&format!(
                "//label[normalize-space(text()[1])='{label}']//select/option[starts-with(normalize-space(.), '{text}')]"
            ))
            .await;
        self.click(&option).await;
    }

    /// The element's rendered text.
    pub async fn text(&self, element: &Element) -> String {
        let text = self
            .command("GET", &format!("/element/{}/text", element.id), json!({}))
            .await;
        text.as_str().unwrap_or_default().to_owned()
    }

    /// The text of the first element a CSS selector matches, or "" when there is none.
    pub async fn text_of(&self, selector: &str) -> String {
        let script =
            "const e = document.querySelector(arguments[0]); return e ? e.textContent : '';";
        self.script(script, json!([selector]))
            .await
            .as_str()
            .unwrap_or_default()
            .to_owned()
    }

    /// Waits (up to [`PATIENCE`]) until the element a CSS selector matches has text satisfying
    /// `wanted`; that text.
    pub async fn wait_text(&self, selector: &str, wanted: impl Fn(&str) -> bool) -> String {
        patiently(&format!("{selector} shows the text"), || async {
            let text = self.text_of(selector).await;
            wanted(&text).then_some(text)
        })
        .await
    }

    /// Runs `script` (a function body; `arguments` holds `args`) in the page; what it returns.
    pub async fn script(&self, script: &str, args: Value) -> Value {
        self.command(
            "POST",
            "/execute/sync",
            json!({"script": script, "args": args}),
        )
        .await
    }

    /// Saves a PNG of the viewport at `path`.
    pub async fn screenshot(&self, path: &Path) {
        let encoded = self.command("GET", "/screenshot", json!({})).await;
        let png = base64::engine::general_purpose::STANDARD
            .decode(encoded.as_str().unwrap())
            .unwrap();
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).unwrap();
        }
        std::fs::write(path, png).unwrap();
    }

    /// Ends the browser session (the driver goes with this value).
    pub async fn quit(self) {
        self.command("DELETE", "", json!({})).await;
    }
}
