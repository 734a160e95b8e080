//! ValidationException for values past a limit that holds right at it:
//! tags (at most 50, keys 1-256 and values at most 256 characters) and an
//! incremental job's frequency (1-168 hours) and image count (1-10).

use std::collections::BTreeMap;

use cutover::pb::v1::{CreateReplicationJobRequest, RegisterSourceServerRequest};

use cutover_testkit::{expect_not_found, TestServer};

use super::{
    api::{refuse_each, Api},
    NO_SIMULATOR, UNKNOWN_SERVER,
};

/// `n` tags with keys of `key_len` and values of `value_len` characters.
fn tags(n: usize, key_len: usize, value_len: usize) -> BTreeMap<String, String> {
    (0..n)
        .map(|i| {
            let key = format!("{i:03}{}", "k".repeat(key_len.saturating_sub(3)));
            (key, "v".repeat(value_len))
        })
        .collect()
}

fn tagged(tags: BTreeMap<String, String>) -> RegisterSourceServerRequest {
    RegisterSourceServerRequest {
        tags,
        ..Default::default()
    }
}

/// An incremental job of a server that does not exist.
fn incremental(frequency: i32, max_number_of_image_to_keep: i32) -> CreateReplicationJobRequest {
    CreateReplicationJobRequest {
        source_id: UNKNOWN_SERVER.into(),
        run_once: Some(false),
        frequency,
        max_number_of_image_to_keep,
        ..Default::default()
    }
}

#[tokio::test]
async fn values_past_a_limit_are_validation_errors_and_the_limit_itself_is_fine() {
    let server = TestServer::in_process(NO_SIMULATOR);
    let api = Api::new(&server).await;

    let bad_tags = [
        tags(51, 10, 10),
        tags(1, 257, 10),
        tags(1, 10, 257),
        BTreeMap::from([(String::new(), "v".to_owned())]),
        BTreeMap::from([("é".repeat(257), "v".to_owned())]),
    ];
    refuse_each(
        |request| api.register(request),
        bad_tags.map(|bad| ("tags", tagged(bad))),
    )
    .await;
    let limit = api
        .register(tagged(tags(50, 256, 256)))
        .await
        .expect("50 tags of 256 characters are fine")
        .into_inner();
    assert_eq!(limit.tags.len(), 50);
    assert!(limit
        .tags
        .iter()
        .all(|(k, v)| k.chars().count() == 256 && v.len() == 256));
    let unicode = api
        .register(tagged(BTreeMap::from([("é".repeat(256), "ü".repeat(256))])))
        .await
        .expect("256 characters, not bytes");
    assert_eq!(unicode.into_inner().tags.len(), 1);
    assert_eq!(
        api.list_servers(&[]).await.len(),
        2,
        "the refused registrations registered nothing"
    );

    // Validation comes before the source is looked up.
    let frequencies = [0, 169, -1, i32::MAX].map(|f| ("frequency", incremental(f, 2)));
    let images = [0, 11, -1].map(|n| ("max_number_of_image_to_keep", incremental(24, n)));
    refuse_each(
        |request| api.create_job(request),
        frequencies.into_iter().chain(images),
    )
    .await;
    for (frequency, images) in [(1, 1), (168, 10)] {
        let status = api
            .create_job(incremental(frequency, images))
            .await
            .expect_err("valid spec, unknown source");
        expect_not_found(status, "SourceServer", UNKNOWN_SERVER);
    }
}
