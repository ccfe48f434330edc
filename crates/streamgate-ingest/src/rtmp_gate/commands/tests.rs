//! The pre-publish policy on OBS's command sequence and on what must be refused.

use super::*;
use crate::rtmp_gate::amf0::encode;

const KEY: &str = "ev1-0123456789abcdef";

fn msg(type_id: u8, body: Vec<u8>) -> Message {
    Message {
        csid: 3,
        timestamp: 0,
        type_id,
        stream_id: 0,
        body,
    }
}

fn connect(app: &str) -> Message {
    let mut body = Vec::new();
    encode::string(&mut body, "connect");
    encode::number(&mut body, 1.0);
    encode::object(
        &mut body,
        &[
            ("app", app),
            ("type", "nonprivate"),
            ("tcUrl", "rtmp://h/live"),
        ],
    );
    msg(AMF0_COMMAND, body)
}

fn named(command: &str, stream: Option<&str>) -> Message {
    let mut body = Vec::new();
    encode::string(&mut body, command);
    encode::number(&mut body, 2.0);
    encode::null(&mut body);
    if let Some(stream) = stream {
        encode::string(&mut body, stream);
        encode::string(&mut body, "live");
    }
    msg(AMF0_COMMAND, body)
}

/// OBS's sequence with `stream` as the key, through the policy.
fn obs(policy: &mut Policy<'_>, stream: &str) -> Result<Vec<Verdict>, Refusal> {
    [
        msg(1, 4096u32.to_be_bytes().to_vec()),
        connect("live"),
        named("releaseStream", Some(stream)),
        named("FCPublish", Some(stream)),
        named("createStream", None),
        named("publish", Some(stream)),
    ]
    .iter()
    .map(|m| policy.check(m))
    .collect()
}

#[test]
fn the_obs_sequence_with_the_key_publishes() {
    let key = Secret::new(KEY);
    let mut policy = Policy::new(&key);
    let verdicts = obs(&mut policy, KEY).unwrap();
    assert_eq!(verdicts.last(), Some(&Verdict::Published));
    assert!(verdicts[..5].iter().all(|v| *v == Verdict::Forward));
}

#[test]
fn a_query_after_the_key_is_ignored() {
    let key = Secret::new(KEY);
    let mut policy = Policy::new(&key);
    let verdicts = obs(&mut policy, &format!("{KEY}?bandwidth=3000")).unwrap();
    assert_eq!(verdicts.last(), Some(&Verdict::Published));
}

#[test]
fn a_wrong_or_prefix_key_is_refused_at_the_first_command_naming_it() {
    let key = Secret::new(KEY);
    for wrong in ["nope", &KEY[..KEY.len() - 1], &format!("{KEY}x"), ""] {
        let mut policy = Policy::new(&key);
        assert_eq!(obs(&mut policy, wrong), Err(Refusal::WrongKey));
    }
    let mut policy = Policy::new(&key);
    policy.check(&connect("live")).unwrap();
    assert_eq!(
        policy.check(&named("publish", Some("bad"))),
        Err(Refusal::WrongKey)
    );
}

#[test]
fn only_the_live_app_may_connect() {
    let key = Secret::new(KEY);
    for (app, ok) in [
        ("live", true),
        ("live/", true),
        ("live?x=1", true),
        ("other", false),
        ("", false),
    ] {
        let result = Policy::new(&key).check(&connect(app));
        assert_eq!(result.is_ok(), ok, "app {app:?}");
    }
}

#[test]
fn commands_before_connect_and_unknown_commands_are_refused() {
    let key = Secret::new(KEY);
    let mut policy = Policy::new(&key);
    assert_eq!(
        policy.check(&named("publish", Some(KEY))),
        Err(Refusal::UnexpectedCommand)
    );
    let mut policy = Policy::new(&key);
    policy.check(&connect("live")).unwrap();
    for command in ["play", "onStatus", "_result", "connect"] {
        assert_eq!(
            policy.check(&named(command, Some(KEY))),
            Err(Refusal::UnexpectedCommand),
            "{command}"
        );
    }
}

#[test]
fn media_data_amf3_and_abort_are_refused_before_publishing() {
    let key = Secret::new(KEY);
    let mut policy = Policy::new(&key);
    policy.check(&connect("live")).unwrap();
    for type_id in [2, 8, 9, 15, 16, 17, 18, 19, 22] {
        assert_eq!(
            policy.check(&msg(type_id, vec![0; 8])),
            Err(Refusal::UnexpectedMessage(type_id))
        );
    }
}

#[test]
fn malformed_commands_are_refused() {
    let key = Secret::new(KEY);
    let mut policy = Policy::new(&key);
    assert!(matches!(
        policy.check(&msg(AMF0_COMMAND, vec![0x02, 0, 9, b'c'])),
        Err(Refusal::Malformed(_))
    ));
    let mut body = Vec::new();
    encode::number(&mut body, 1.0);
    assert_eq!(
        policy.check(&msg(AMF0_COMMAND, body)),
        Err(Refusal::BadArguments)
    );
    policy.check(&connect("live")).unwrap();
    let mut body = Vec::new();
    encode::string(&mut body, "publish");
    encode::number(&mut body, 5.0);
    encode::string(&mut body, KEY); // no null command object
    assert_eq!(
        policy.check(&msg(AMF0_COMMAND, body)),
        Err(Refusal::BadArguments)
    );
}

#[test]
fn an_empty_key_lets_nobody_publish() {
    let key = Secret::new("");
    let mut policy = Policy::new(&key);
    assert_eq!(obs(&mut policy, ""), Err(Refusal::WrongKey));
}
