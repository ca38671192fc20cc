//! Locations and registers (#16): upserted by vendors by external id, read by connectors,
//! every change an event; registers under their location.

use axum::http::StatusCode;
use koppel_api::auth::scopes::ClientKind;
use serde_json::json;
use sqlx::PgPool;

use crate::harness::TestApp;

#[sqlx::test(migrator = "koppel_store::MIGRATOR")]
async fn locations_and_registers_are_upserted_read_and_announced(pool: PgPool) {
    let app = TestApp::new(pool.clone());
    let company = app.company("Bakkerij De Korrel B.V.").await;
    let vendor = app.client(ClientKind::Vendor, &[company]).await;
    let vendor = app.token(&vendor).await;
    let connector = app.client(ClientKind::Connector, &[company]).await;
    let connector = app.token(&connector).await;
    let base = format!("/v1/companies/{company}/locations");
    let centrum = json!({"external_id": "centrum", "name": "De Korrel Centrum",
        "address": {"street": "Damrak", "house_number": "1", "postal_code": "1012 LG",
                    "city": "Amsterdam", "country": "nl"},
        "cost_centre": "KP-100"});
    let created = app.post(&base, &vendor, centrum.clone()).await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.text);
    let created = created.json();
    assert_eq!(created["address"]["country"], "NL");
    assert_eq!(created["cost_centre"], "KP-100");
    assert_eq!(created["version"], 1);
    let id = created["id"].as_str().unwrap().to_owned();
    // The same again changes nothing; a new name is version 2.
    let same = app.post(&base, &vendor, centrum.clone()).await;
    assert_eq!(same.status, StatusCode::OK);
    assert_eq!(same.json()["version"], 1);
    let mut renamed = centrum.clone();
    renamed["name"] = json!("De Korrel Damrak");
    let updated = app.post(&base, &vendor, renamed).await.json();
    assert_eq!(updated["version"], 2);
    assert_eq!(updated["id"], json!(id));

    // A connector reads them; it cannot write them.
    let got = app.get(&format!("{base}/{id}"), &connector).await;
    assert_eq!(got.status, StatusCode::OK, "{}", got.text);
    assert_eq!(got.json()["name"], "De Korrel Damrak");
    let found = app
        .get(&format!("{base}?external_id=centrum"), &connector)
        .await
        .json();
    assert_eq!(found["data"].as_array().unwrap().len(), 1);
    assert_eq!(
        app.post(&base, &connector, centrum.clone()).await.status,
        StatusCode::FORBIDDEN
    );

    // Registers under the location; a code is unique within its location only.
    let registers = format!("{base}/{id}/registers");
    let kassa = app
        .post(
            &registers,
            &vendor,
            json!({"external_id": "kassa-1", "name": "Kassa 1"}),
        )
        .await;
    assert_eq!(kassa.status, StatusCode::CREATED, "{}", kassa.text);
    let kassa = kassa.json();
    assert_eq!(kassa["location_id"], json!(id));
    let noord = app
        .post(
            &base,
            &vendor,
            json!({"external_id": "noord", "name": "De Korrel Noord"}),
        )
        .await
        .json();
    let noord_kassa = app
        .post(
            &format!("{base}/{}/registers", noord["id"].as_str().unwrap()),
            &vendor,
            json!({"external_id": "kassa-1", "name": "Kassa 1"}),
        )
        .await;
    assert_eq!(noord_kassa.status, StatusCode::CREATED);
    assert_ne!(noord_kassa.json()["id"], kassa["id"]);
    let list = app.get(&registers, &connector).await.json();
    assert_eq!(list["data"].as_array().unwrap().len(), 1);
    let one = app
        .get(
            &format!("{registers}/{}", kassa["id"].as_str().unwrap()),
            &connector,
        )
        .await;
    assert_eq!(one.status, StatusCode::OK);
    // The register under another location, or a location that does not exist: 404.
    let elsewhere = app
        .get(
            &format!(
                "{base}/{}/registers/{}",
                noord["id"].as_str().unwrap(),
                kassa["id"].as_str().unwrap()
            ),
            &connector,
        )
        .await;
    assert_eq!(elsewhere.status, StatusCode::NOT_FOUND);
    let nowhere = app
        .post(
            &format!("{base}/{}/registers", uuid::Uuid::new_v4()),
            &vendor,
            json!({"external_id": "kassa-9", "name": "Kassa 9"}),
        )
        .await;
    assert_eq!(nowhere.status, StatusCode::NOT_FOUND);

    // Bad input names its field.
    let bad = app
        .post(
            &base,
            &vendor,
            json!({"external_id": "zuid", "name": " ", "address": {"country": "Holland"}}),
        )
        .await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
    let pointers: Vec<String> = bad
        .problem()
        .errors
        .unwrap()
        .into_iter()
        .map(|e| e.pointer)
        .collect();
    assert_eq!(pointers, ["/name", "/address/country"]);

    // Every change is in the feed.
    let events: Vec<(String, String)> = sqlx::query_as(
        "select type, resource from events
          where company_id = $1 and resource in ('locations', 'registers') order by txid, seq",
    )
    .bind(company)
    .fetch_all(&pool)
    .await
    .unwrap();
    let events: Vec<(&str, &str)> = events
        .iter()
        .map(|(t, r)| (t.as_str(), r.as_str()))
        .collect();
    assert_eq!(
        events,
        [
            ("location.created", "locations"),
            ("location.updated", "locations"),
            ("register.created", "registers"),
            ("location.created", "locations"),
            ("register.created", "registers"),
        ]
    );
}

#[sqlx::test(migrator = "koppel_store::MIGRATOR")]
async fn a_receipt_is_linked_to_its_location_and_register_once_they_are_pushed(pool: PgPool) {
    let s = crate::receipts::setup(pool).await;
    let sold = chrono::Utc::now().to_rfc3339();
    // Sold at "centrum" on "kassa-1", neither known yet: stored all the same.
    let stored = s
        .post_receipt(&crate::receipts::receipt(&s, "l-1", &sold))
        .await;
    assert_eq!(stored.status, StatusCode::CREATED, "{}", stored.text);
    let stored = stored.json();
    assert_eq!(stored["location_id"], "centrum");
    assert_eq!(stored["location"], serde_json::Value::Null);
    assert_eq!(stored["register"], serde_json::Value::Null);
    let base = format!("/v1/companies/{}/locations", s.company);
    let location = s
        .app
        .post(
            &base,
            &s.vendor,
            json!({"external_id": "centrum", "name": "De Korrel Centrum", "cost_centre": "KP-100"}),
        )
        .await
        .json();
    let register = s
        .app
        .post(
            &format!("{base}/{}/registers", location["id"].as_str().unwrap()),
            &s.vendor,
            json!({"external_id": "kassa-1", "name": "Kassa bij de deur"}),
        )
        .await
        .json();
    let read = s
        .app
        .get(
            &format!("{}/{}", s.receipts(), stored["id"].as_str().unwrap()),
            &s.connector,
        )
        .await
        .json();
    assert_eq!(
        read["location"],
        json!({"id": location["id"], "name": "De Korrel Centrum", "cost_centre": "KP-100"})
    );
    assert_eq!(
        read["register"],
        json!({"id": register["id"], "name": "Kassa bij de deur"})
    );
    // The list links them too.
    let list = s.app.get(&s.receipts(), &s.connector).await.json();
    assert_eq!(list["data"][0]["location"]["id"], location["id"]);
    // And the location's day names its location, with the cost centre to book it to.
    let day = s
        .app
        .get(
            &format!(
                "{}?location_id=centrum",
                s.day(read["business_date"].as_str().unwrap())
            ),
            &s.connector,
        )
        .await
        .json();
    assert_eq!(
        day["location"],
        json!({"id": location["id"], "name": "De Korrel Centrum", "cost_centre": "KP-100"})
    );
    let company_day = s
        .app
        .get(
            &s.day(read["business_date"].as_str().unwrap()),
            &s.connector,
        )
        .await
        .json();
    assert_eq!(company_day["location"], serde_json::Value::Null);
}
