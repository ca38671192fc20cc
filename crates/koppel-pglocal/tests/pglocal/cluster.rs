//! The library: start, stop, resume and drop a cluster.

use koppel_pglocal::{Cluster, Options};

use crate::{assert_answers, assert_refused, select_one};

#[test]
fn a_started_cluster_answers_queries_on_its_port() {
    let cluster = Cluster::start(Options::default()).unwrap();

    assert_answers(cluster.port());
    assert_eq!(
        cluster.url("koppel"),
        format!("postgres://postgres@127.0.0.1:{}/koppel", cluster.port())
    );
}

#[test]
fn a_stopped_cluster_refuses_connections_and_resumes_with_its_data() {
    let cluster = Cluster::start(Options::default()).unwrap();
    let port = cluster.port();
    let created = crate::psql_command(
        port,
        "create table survivor (id int); insert into survivor values (42)",
    );
    assert!(
        created.status.success(),
        "{}",
        String::from_utf8_lossy(&created.stderr)
    );

    cluster.stop().unwrap();

    let refused = select_one(port);
    assert!(!refused.status.success());
    assert!(
        String::from_utf8_lossy(&refused.stderr).contains("Connection refused"),
        "{}",
        String::from_utf8_lossy(&refused.stderr)
    );
    assert!(cluster.data_dir().join("PG_VERSION").exists());

    cluster.resume().unwrap();

    assert_eq!(cluster.port(), port);
    assert_answers(port);
    let kept = crate::psql_command(port, "select id from survivor");
    assert_eq!(String::from_utf8_lossy(&kept.stdout).trim(), "42");
}

#[test]
fn a_crashed_durable_cluster_recovers_every_commit_when_resumed() {
    let cluster = Cluster::start(Options {
        durable: true,
        ..Options::default()
    })
    .unwrap();
    let port = cluster.port();
    let created = crate::psql_command(
        port,
        "create table survivor (id int); insert into survivor select generate_series(1, 1000)",
    );
    assert!(
        created.status.success(),
        "{}",
        String::from_utf8_lossy(&created.stderr)
    );

    cluster.crash().unwrap();
    assert!(!select_one(port).status.success());
    cluster.crash().unwrap();
    cluster.resume().unwrap();

    let kept = crate::psql_command(port, "select count(*) from survivor");
    assert_eq!(String::from_utf8_lossy(&kept.stdout).trim(), "1000");
    let log = std::fs::read_to_string(cluster.data_dir().join("../server.log")).unwrap();
    assert!(
        log.contains("database system was not properly shut down"),
        "the restart ran crash recovery:\n{log}"
    );
}

#[test]
fn stop_and_resume_twice_in_a_row_do_nothing_more() {
    let cluster = Cluster::start(Options::default()).unwrap();

    cluster.resume().unwrap();
    assert_answers(cluster.port());
    cluster.stop().unwrap();
    cluster.stop().unwrap();
    cluster.resume().unwrap();

    assert_answers(cluster.port());
}

#[test]
fn dropping_a_cluster_removes_its_folder_and_closes_its_port() {
    let cluster = Cluster::start(Options::default()).unwrap();
    let port = cluster.port();
    let folder = cluster.data_dir().parent().unwrap().to_path_buf();
    assert!(folder.exists());

    drop(cluster);

    assert!(!folder.exists(), "{} is still there", folder.display());
    assert_refused(port);
}

#[test]
fn dropping_a_stopped_cluster_removes_its_folder() {
    let cluster = Cluster::start(Options::default()).unwrap();
    let folder = cluster.data_dir().parent().unwrap().to_path_buf();
    cluster.stop().unwrap();

    drop(cluster);

    assert!(!folder.exists(), "{} is still there", folder.display());
}

#[test]
fn options_reach_the_server() {
    let fast = Cluster::start(Options {
        durable: false,
        max_connections: 37,
        // One plain, and one the shell would split without quoting.
        settings: vec![
            "work_mem=3MB".into(),
            "search_path=public, pg_catalog".into(),
        ],
    })
    .unwrap();
    let durable = Cluster::start(Options {
        durable: true,
        max_connections: 200,
        settings: Vec::new(),
    })
    .unwrap();

    let show = |cluster: &Cluster| {
        let output = crate::psql_command(
            cluster.port(),
            "select current_setting('fsync') || ' ' || current_setting('max_connections') \
             || ' ' || current_setting('work_mem') || ' ' || current_setting('search_path')",
        );
        String::from_utf8_lossy(&output.stdout).trim().to_owned()
    };

    assert_eq!(show(&fast), "off 37 3MB public, pg_catalog");
    assert_eq!(show(&durable), r#"on 200 4MB "$user", public"#);
}

#[test]
fn clusters_can_be_shared_between_threads() {
    fn assert_send_sync<T: Send + Sync>() {}
    assert_send_sync::<Cluster>();
}

#[test]
fn a_server_that_will_not_start_is_explained_by_its_log() {
    let error = Cluster::start(Options {
        durable: false,
        max_connections: 0,
        settings: Vec::new(),
    })
    .unwrap_err();

    assert!(
        matches!(error, koppel_pglocal::Error::Start { .. }),
        "{error:?}"
    );
    let message = error.to_string();
    assert!(message.contains("pg_ctl"), "{message}");
    assert!(message.contains("\"max_connections\""), "{message}");
}

#[test]
fn resume_keeps_its_port_and_says_so_when_the_port_was_taken() {
    let cluster = Cluster::start(Options::default()).unwrap();
    cluster.stop().unwrap();
    let squatter = std::net::TcpListener::bind(("127.0.0.1", cluster.port())).unwrap();

    let error = cluster.resume().unwrap_err();

    assert!(
        error.to_string().contains("Address already in use"),
        "{error}"
    );
    drop(squatter);
    cluster.resume().unwrap();
    assert_answers(cluster.port());
}
