//! Work the server does on its own, apart from requests.

use chrono::Utc;

/// How often `koppel serve` finalises the days that passed 05:00: a day reads as final from
/// its `final_at` on anyway, so this only bounds how late its `daily_revenue.final` event
/// reaches the feed.
pub const FINALISE_INTERVAL: std::time::Duration = std::time::Duration::from_secs(5);

/// Finalises every due day, every [`FINALISE_INTERVAL`], for as long as the server runs. The
/// first run happens at once, so days that passed 05:00 while no server ran are finalised on
/// start-up.
pub async fn finalise_days(store: koppel_store::Store) {
    let mut tick = tokio::time::interval(FINALISE_INTERVAL);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        match store.daily_revenue().finalise_due(Utc::now()).await {
            Ok(0) => {}
            Ok(days) => tracing::info!(days, "finalised business days"),
            Err(e) => tracing::warn!(error = %e, "could not finalise business days"),
        }
    }
}
