//! The change feed under many concurrent writers: a reader that follows the
//! cursor sees every committed change exactly once, in an order consistent
//! with commits.

use std::collections::{HashMap, HashSet};
use std::time::{Duration, Instant};

use axum::http::StatusCode;
use koppel_api::auth::scopes::ClientKind;
use rand::Rng;
use sqlx::PgPool;
use uuid::Uuid;

use crate::harness::TestApp;

const WRITERS: usize = 8;
const CHANGES_PER_WRITER: usize = 40;

/// One writer: transactions that take their sequence number early and commit
/// late, in random order against the other writers. This is exactly what makes
/// a plain `where seq > cursor` feed lose events.
async fn write_changes(pool: PgPool, company: Uuid, writer: usize) -> Vec<(Uuid, i32)> {
    let mut written = Vec::new();
    let resource_id = Uuid::new_v4();
    for version in 1..=CHANGES_PER_WRITER as i32 {
        let mut tx = pool.begin().await.unwrap();
        koppel_store::events::append(
            &mut tx,
            company,
            "test.updated",
            "tests",
            resource_id,
            version,
        )
        .await
        .unwrap();
        let pause_ms = rand::rng().random_range(0..10);
        sqlx::query("select pg_sleep($1)")
            .bind(f64::from(pause_ms) / 1000.0)
            .execute(&mut *tx)
            .await
            .unwrap();
        tx.commit().await.unwrap();
        written.push((resource_id, version));
        if writer.is_multiple_of(2) {
            tokio::task::yield_now().await;
        }
    }
    written
}

#[sqlx::test(migrator = "koppel_store::MIGRATOR")]
async fn a_reader_following_the_cursor_sees_every_change_once_while_many_writers_commit(
    pool: PgPool,
) {
    let app = TestApp::new(pool.clone());
    let company = app.company("Feed B.V.").await;
    let connector = app.client(ClientKind::Connector, &[company]).await;
    let token = app.token(&connector).await;
    let feed = format!("/v1/companies/{company}/events");

    let mut cursor: Option<String> = None;

    // An older transaction elsewhere in the cluster (here: one that takes a
    // transaction id and holds it for a while) holds the whole feed back until
    // it ends. The reader must wait for it, not conclude from an empty page
    // that it has seen everything.
    let holder = {
        let pool = pool.clone();
        tokio::spawn(async move {
            let mut tx = pool.begin().await.unwrap();
            sqlx::query("select pg_current_xact_id()")
                .execute(&mut *tx)
                .await
                .unwrap();
            tokio::time::sleep(Duration::from_millis(1500)).await;
            tx.commit().await.unwrap();
        })
    };

    let writers: Vec<_> = (0..WRITERS)
        .map(|w| tokio::spawn(write_changes(pool.clone(), company, w)))
        .collect();

    // Read while the writers write, and on once they are done until every
    // write has been seen. An empty page does not mean the feed is complete:
    // the feed holds back what any older transaction in the cluster could
    // still precede, and other tests run their own transactions beside this
    // one. A lost event shows as the deadline passing with writes unseen.
    let total = WRITERS * CHANGES_PER_WRITER;
    let mut seen: Vec<(Uuid, i32, String)> = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let writers_done = writers.iter().all(|w| w.is_finished());
        assert!(
            Instant::now() < deadline,
            "the reader saw {} of {total} writes within a minute (writers done: {writers_done})",
            seen.len()
        );
        let uri = match &cursor {
            Some(c) => format!("{feed}?limit=7&after={c}"),
            None => format!("{feed}?limit=7"),
        };
        let response = app.get(&uri, &token).await;
        if response.status == StatusCode::TOO_MANY_REQUESTS {
            // A reader that waits long for the horizon may spend its burst;
            // it then does what a connector does: waits as it is told.
            let wait: u64 = response.header("retry-after").unwrap().parse().unwrap();
            tokio::time::sleep(Duration::from_secs(wait)).await;
            continue;
        }
        assert_eq!(response.status, StatusCode::OK, "{}", response.text);
        let page = response.json();
        for event in page["data"].as_array().unwrap() {
            // The company's own creation events may arrive late too (the
            // feed waits for every older transaction in the cluster, and
            // other tests run beside this one); only the writers' count.
            if event["resource"] != "tests" {
                continue;
            }
            let id = Uuid::parse_str(event["resource_id"].as_str().unwrap()).unwrap();
            let version = i32::try_from(event["version"].as_i64().unwrap()).unwrap();
            seen.push((id, version, event["id"].as_str().unwrap().to_owned()));
        }
        cursor = page["next_cursor"].as_str().map(str::to_owned);
        if writers_done && seen.len() >= total {
            break;
        }
        if page["data"].as_array().unwrap().is_empty() {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    }
    holder.await.unwrap();
    let mut written = HashSet::new();
    for writer in writers {
        written.extend(writer.await.unwrap());
    }

    // Exactly once: as many events as writes, no event id twice, and the same set.
    let ids: HashSet<&String> = seen.iter().map(|(_, _, id)| id).collect();
    assert_eq!(ids.len(), seen.len(), "an event was seen twice");
    let seen_changes: HashSet<(Uuid, i32)> = seen.iter().map(|(r, v, _)| (*r, *v)).collect();
    assert_eq!(seen_changes, written, "the feed lost or invented changes");

    // Consistent with commits: a writer commits its versions one after another,
    // so the feed shows each resource's versions in increasing order.
    let mut last: HashMap<Uuid, i32> = HashMap::new();
    for (resource, version, _) in &seen {
        let previous = last.insert(*resource, *version).unwrap_or(0);
        assert!(
            *version > previous,
            "version {version} of {resource} came after {previous}"
        );
    }

    // Nothing more arrives once everything is read.
    let rest = app
        .get(&format!("{feed}?after={}", cursor.unwrap()), &token)
        .await
        .json();
    assert!(
        rest["data"]
            .as_array()
            .unwrap()
            .iter()
            .all(|e| e["resource"] != "tests")
    );
}
