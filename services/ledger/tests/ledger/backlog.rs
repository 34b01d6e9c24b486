//! The ledger alone, fed sales events straight onto the sales stream: a backlog posts each
//! event once (in chunks, with redeliveries and a void among them), the daily report is the
//! sum of the day's sales, and reconciliation finds the one sale that cannot be posted.

use std::time::Duration;

use tillstream_ledger::reconcile::Reconciler;
use tillstream_messaging::Naming;
use tillstream_proto::ledger::v1 as pb;
use tillstream_proto::ledger::v1::ledger_service_client::LedgerServiceClient;
use tillstream_test_support::grpc::{Authed, connect_as_admin};
use tillstream_test_support::sales_events::{SalesEvent, publish, two_line_sale};
use tillstream_test_support::{TestPrefix, TestStack, eventually};

const LOCATION: &str = "01TESTLOCATION0000000000000";
const DAY: &str = "2026-05-04";

struct Ledger {
    client: LedgerServiceClient<Authed>,
    pool: sqlx::PgPool,
    services: TestStack,
}

impl Ledger {
    async fn start(prefix: TestPrefix) -> Ledger {
        let mut services = TestStack::on(prefix);
        let url = services.start("ledger", tillstream_ledger::serve).await;
        let client = eventually("the ledger answers", || {
            let url = url.clone();
            async move {
                let mut client = LedgerServiceClient::new(connect_as_admin(url).await?);
                client
                    .get_trial_balance(pb::GetTrialBalanceRequest::default())
                    .await
                    .ok()?;
                Some(client)
            }
        })
        .await;
        let pool = services.database("ledger").await;
        Ledger {
            client,
            pool,
            services,
        }
    }

    /// Every sales event delivered to the ledger is acknowledged.
    async fn settled(&self) {
        let prefix = &self.services.prefix;
        prefix.consumer_settled("ledger", "sales", "sales").await;
    }

    async fn entries(&self) -> i64 {
        sqlx::query_scalar("SELECT count(*) FROM journal_entries")
            .fetch_one(&self.pool)
            .await
            .unwrap()
    }

    async fn wait_for_entries(&self, count: i64) {
        eventually(&format!("{count} entries"), || async {
            (self.entries().await == count).then_some(())
        })
        .await;
    }

    async fn reconciler(&self) -> Reconciler {
        let nats = async_nats::connect(&self.services.prefix.url)
            .await
            .unwrap();
        Reconciler {
            pool: self.pool.clone(),
            js: async_nats::jetstream::new(nats),
            naming: Naming::new(self.services.prefix.prefix.clone()).unwrap(),
            grace: Duration::ZERO,
        }
    }
}

#[tokio::test]
async fn a_backlog_posts_every_sale_once_and_the_daily_report_is_their_sum() {
    let prefix = TestPrefix::new();
    let sales: Vec<SalesEvent> = (0..450)
        .map(|n| SalesEvent::completed(two_line_sale(LOCATION, DAY, n)))
        .collect();
    // Published while the ledger is down; the first fifty again, as a redelivery brings
    // them, and a void of the first sale after its sale.
    publish(&prefix.url, &prefix.prefix, &sales, "")
        .await
        .unwrap();
    publish(&prefix.url, &prefix.prefix, &sales[..50], "-again")
        .await
        .unwrap();
    let void = SalesEvent::voided(&sales[0].sale_id);
    publish(&prefix.url, &prefix.prefix, std::slice::from_ref(&void), "")
        .await
        .unwrap();

    let ledger = Ledger::start(prefix).await;
    ledger.wait_for_entries(451).await;
    // Nothing more is posted once the ledger has acknowledged every delivery.
    ledger.settled().await;
    assert_eq!(ledger.entries().await, 451);
    let per_source: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM (SELECT source_event_id FROM journal_entries
                               GROUP BY source_event_id HAVING count(*) > 1) d",
    )
    .fetch_one(&ledger.pool)
    .await
    .unwrap();
    assert_eq!(per_source, 0, "a source event posted twice");

    let mut client = ledger.client.clone();
    let balance = client
        .get_trial_balance(pb::GetTrialBalanceRequest::default())
        .await
        .unwrap()
        .into_inner();
    assert_eq!(balance.total_debits, balance.total_credits);
    let revenue = balance.accounts.iter().find(|a| a.code == "4000").unwrap();
    // 449 sales of 20.00 revenue stand; the voided one is taken back.
    assert_eq!(revenue.balance, "-8980.00");

    let report = client
        .get_daily_report(pb::GetDailyReportRequest {
            date: DAY.into(),
            location_id: LOCATION.into(),
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(report.sales_count, 449);
    assert_eq!(report.gross, "8980.00");
    assert_eq!(report.net, "8980.00");
    assert_eq!(report.tax, "898.00");
    assert_eq!(report.total, "9878.00");
    let tenders: std::collections::BTreeMap<_, _> = report.by_tender.into_iter().collect();
    assert_eq!(
        tenders,
        [
            ("card".to_owned(), "5388.00".to_owned()),
            ("cash".to_owned(), "4490.00".to_owned())
        ]
        .into()
    );
}

#[tokio::test]
async fn reconciliation_reports_the_sale_without_an_entry_until_it_is_posted() {
    let prefix = TestPrefix::new();
    let good = SalesEvent::completed(two_line_sale(LOCATION, DAY, 1));
    let mut unbookable = two_line_sale(LOCATION, DAY, 2);
    unbookable.payments[0].method = "seashells".into();
    let bad = SalesEvent::completed(unbookable);
    publish(&prefix.url, &prefix.prefix, &[good, bad.clone()], "")
        .await
        .unwrap();
    let ledger = Ledger::start(prefix).await;
    ledger.wait_for_entries(1).await;

    let reconciler = ledger.reconciler().await;
    let round = reconciler.round().await.unwrap();
    assert_eq!(round.checked, 2);
    assert_eq!(round.unposted, std::slice::from_ref(&bad.event_id));
    // The next round reads nothing new and still reports the gap.
    let round = reconciler.round().await.unwrap();
    assert_eq!(round.checked, 0);
    assert_eq!(round.unposted, std::slice::from_ref(&bad.event_id));

    // Once posted (here by hand, as a replayed dead letter would), the gap is gone.
    let mut fixed = two_line_sale(LOCATION, DAY, 2);
    fixed.id = bad.sale_id.clone();
    let replay = SalesEvent {
        data: SalesEvent::completed(fixed).data,
        ..bad.clone()
    };
    publish(
        &ledger.services.prefix.url,
        &ledger.services.prefix.prefix,
        &[replay],
        "-replayed",
    )
    .await
    .unwrap();
    ledger.wait_for_entries(2).await;
    let round = reconciler.round().await.unwrap();
    assert!(round.unposted.is_empty(), "{round:?}");
}

#[tokio::test]
async fn a_backlog_of_stock_movements_posts_each_cost_once() {
    use prost::Message;
    use tillstream_proto::inventory::v1 as inventory;

    let prefix = TestPrefix::new();
    let (naming, js) = streams_of(&prefix).await;
    // 240 sold (2 × 1.25 each) and one transfer, which posts nothing; the first twenty
    // again under new message ids, as a redelivery brings them. Then sales costed whole.
    let mut events: Vec<Movement> = Vec::new();
    for n in 0..240 {
        let sold = inventory::StockSold {
            product_id: format!("P{}", n % 7),
            location_id: LOCATION.into(),
            quantity: "2".into(),
            unit_cost: "1.25".into(),
            sale_id: format!("S{n}"),
            // As recorded before sales were costed whole: booked one by one.
            cost_with_sale: false,
        };
        events.push((
            "StockSold",
            ulid::Ulid::generate().to_string(),
            sold.encode_to_vec(),
        ));
    }
    // 60 sales costed whole: two movements each (2 × 1.25 and 1 × 0.50), which post
    // nothing, and their SaleCosted, one entry of 3.00.
    for n in 0..60 {
        let movement = |product: &str, quantity: &str, unit_cost: &str| inventory::CostedMovement {
            product_id: product.into(),
            quantity: quantity.into(),
            unit_cost: unit_cost.into(),
        };
        let movements = [movement("P1", "2", "1.25"), movement("P2", "1", "0.50")];
        for m in &movements {
            let sold = inventory::StockSold {
                product_id: m.product_id.clone(),
                location_id: LOCATION.into(),
                quantity: m.quantity.clone(),
                unit_cost: m.unit_cost.clone(),
                sale_id: format!("W{n}"),
                cost_with_sale: true,
            };
            let id = ulid::Ulid::generate().to_string();
            events.push(("StockSold", id, sold.encode_to_vec()));
        }
        let costed = inventory::SaleCosted {
            sale_id: format!("W{n}"),
            location_id: LOCATION.into(),
            movements: movements.to_vec(),
        };
        let id = ulid::Ulid::generate().to_string();
        events.push(("SaleCosted", id, costed.encode_to_vec()));
    }
    events.push((
        "StockTransferredOut",
        ulid::Ulid::generate().to_string(),
        Vec::new(),
    ));
    let again: Vec<_> = events[..20].to_vec();
    publish_movements(&js, &naming, &events, 0).await;
    publish_movements(&js, &naming, &again, 1).await;

    let ledger = Ledger::start(prefix).await;
    ledger.wait_for_entries(300).await;
    ledger.settled().await;
    assert_eq!(ledger.entries().await, 300);
    let mut client = ledger.client.clone();
    let balance = client
        .get_trial_balance(pb::GetTrialBalanceRequest::default())
        .await
        .unwrap()
        .into_inner();
    let cogs = balance.accounts.iter().find(|a| a.code == "5000").unwrap();
    assert_eq!(cogs.balance, "780.00");
    assert_eq!(balance.total_debits, balance.total_credits);
}

/// `prefix`'s subjects, and a JetStream context on which its sales and inventory streams
/// exist.
pub async fn streams_of(prefix: &TestPrefix) -> (Naming, async_nats::jetstream::Context) {
    use tillstream_messaging::{StreamSettings, ensure_service_stream};

    let naming = Naming::new(prefix.prefix.clone()).unwrap();
    let js = async_nats::jetstream::new(async_nats::connect(&prefix.url).await.unwrap());
    for service in ["sales", "inventory"] {
        ensure_service_stream(&js, &naming, service, &StreamSettings::default())
            .await
            .unwrap();
    }
    (naming, js)
}

/// An inventory event as the test publishes it: its type, id and protobuf bytes.
pub type Movement = (&'static str, String, Vec<u8>);

/// Publishes `events` on the inventory stream as inventory's relay would; `round` makes the
/// message ids new, as a redelivery past the duplicate window brings an event again.
pub async fn publish_movements(
    js: &async_nats::jetstream::Context,
    naming: &Naming,
    events: &[Movement],
    round: usize,
) {
    use async_nats::HeaderMap;
    use tillstream_messaging::headers;

    for (event_type, id, data) in events {
        let mut h = HeaderMap::new();
        h.insert(headers::MSG_ID, format!("{id}-{round}").as_str());
        h.insert(headers::SPECVERSION, "1.0");
        h.insert(headers::ID, id.as_str());
        h.insert(
            headers::TYPE,
            format!("tillstream.inventory.v1.{event_type}").as_str(),
        );
        h.insert(headers::SUBJECT, "stock-P:L");
        let aggregate = if *event_type == "SaleCosted" {
            "sale_cost"
        } else {
            "stock"
        };
        js.publish_with_headers(
            naming.event_subject("inventory", aggregate, event_type),
            h,
            data.clone().into(),
        )
        .await
        .unwrap()
        .await
        .unwrap();
    }
}
