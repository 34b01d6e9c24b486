//! A gateway of the browser test's own beside `up`'s services, so the test can take it away
//! (kill it: connections refused) or pause it (SIGSTOP: connections accepted, never
//! answered) and bring it back on the same address, as a till's network would.

use std::time::Duration;

use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;
use tillstream_test_support::{database_server_url, free_port, nats_url};
use tokio::process::{Child, Command};

use super::webdriver::patiently;
use crate::system::System;

pub struct OwnGateway {
    pub url: String,
    env: Vec<(String, String)>,
    child: Option<Child>,
}

impl OwnGateway {
    /// Starts a gateway in front of `system`'s services on free ports; waits until ready.
    pub async fn start(system: &System) -> OwnGateway {
        let http_addr = format!("127.0.0.1:{}", free_port().unwrap());
        let grpc_addr = format!("127.0.0.1:{}", free_port().unwrap());
        let mut env = vec![
            (
                "TILLSTREAM_SUBJECT_PREFIX".to_owned(),
                system.subject_prefix.clone(),
            ),
            ("TILLSTREAM_DB_PREFIX".to_owned(), system.db_prefix.clone()),
            ("TILLSTREAM_DATABASE_URL".to_owned(), database_server_url()),
            ("TILLSTREAM_NATS_URL".to_owned(), nats_url()),
            ("TILLSTREAM_HTTP_ADDR".to_owned(), http_addr.clone()),
            ("TILLSTREAM_GRPC_ADDR".to_owned(), grpc_addr),
            ("RUST_LOG".to_owned(), "warn".to_owned()),
        ];
        for (service, url) in &system.service_urls {
            let addr = url.trim_start_matches("http://").to_owned();
            env.push((format!("TILLSTREAM_{}_ADDR", service.to_uppercase()), addr));
        }
        let mut gateway = OwnGateway {
            url: format!("http://{http_addr}"),
            env,
            child: None,
        };
        gateway.run().await;
        gateway
    }

    /// (Re)starts the process and waits for `/readyz`.
    pub async fn run(&mut self) {
        let child = Command::new(env!("CARGO_BIN_EXE_tillstream"))
            .args(["serve", "gateway"])
            .envs(self.env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
            .env_remove("TILLSTREAM_ADMIN_PASSWORD")
            .kill_on_drop(true)
            .spawn()
            .unwrap();
        self.child = Some(child);
        self.wait_ready().await;
    }

    async fn wait_ready(&self) {
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(2))
            .build()
            .unwrap();
        let url = format!("{}/readyz", self.url);
        patiently("the test's gateway is ready", || async {
            let answer = http.get(&url).send().await.ok()?;
            answer.status().is_success().then_some(())
        })
        .await;
    }

    fn pid(&self) -> Pid {
        let child = self.child.as_ref().expect("the gateway runs");
        Pid::from_raw(i32::try_from(child.id().unwrap()).unwrap())
    }

    /// kill -9: the address refuses connections until [`OwnGateway::run`].
    pub async fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            child.kill().await.unwrap();
        }
    }

    /// SIGSTOP: the kernel still accepts connections, nothing answers them.
    pub fn pause(&self) {
        kill(self.pid(), Signal::SIGSTOP).unwrap();
    }

    /// SIGCONT after [`OwnGateway::pause`]; waits until it answers again.
    pub async fn unpause(&self) {
        kill(self.pid(), Signal::SIGCONT).unwrap();
        self.wait_ready().await;
    }
}
