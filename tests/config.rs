//! The shipped configs resolve, and bad ones are rejected with the key named.

use salesops::config::{self, Settings};

#[test]
fn example_and_default_configs_resolve() {
    for text in [
        include_str!("../config/example.toml"),
        config::EMBEDDED_DEFAULT,
    ] {
        Settings::from_toml(text).unwrap();
    }
}

#[test]
fn misspelled_key_in_the_example_is_rejected() {
    let text = include_str!("../config/example.toml").replace("sql_threshold", "sql_treshold");
    let err = Settings::from_toml(&text).unwrap_err().to_string();
    assert!(
        err.contains("leads") && err.contains("sql_treshold"),
        "{err}"
    );
}

#[test]
fn environment_overrides_the_file() {
    // SALESOPS__SECTION__KEY reaches nested keys (the prefix separator trap).
    std::env::set_var("SALESOPS__FORECAST__GROWTH_RATE", "0.25");
    let raw = config::load_str(include_str!("../config/example.toml"), "example", true).unwrap();
    std::env::remove_var("SALESOPS__FORECAST__GROWTH_RATE");
    assert_eq!(raw.forecast.growth_rate, 0.25);
}

#[test]
fn chat_secrets_come_from_the_environment() {
    std::env::set_var(
        "SALESOPS__MSTEAMS__WEBHOOKS__LEADERSHIP",
        "https://prod-1.westus.logic.azure.com/workflows/x/triggers/manual/paths/invoke?sig=s3cret",
    );
    std::env::set_var("SALESOPS__SLACK__TOKEN", "xoxb-from-the-env");
    let raw = config::load_str(include_str!("../config/example.toml"), "example", true);
    std::env::remove_var("SALESOPS__MSTEAMS__WEBHOOKS__LEADERSHIP");
    std::env::remove_var("SALESOPS__SLACK__TOKEN");
    let s = Settings::resolve(raw.unwrap()).unwrap();
    assert!(s.msteams.webhook("leadership").is_some());
    assert_eq!(
        s.slack.token.as_ref().unwrap().expose(),
        "xoxb-from-the-env"
    );
    // Secrets never print.
    assert!(!format!("{:?}", s.msteams).contains("s3cret"));
}

#[test]
fn bad_chat_keys_are_named() {
    let text = r##"
public_base_url = "ftp://files.example.com"
[slack]
api_base_url = "slack"
[msteams]
max_attempts = 0
[[reports]]
name = "m"
slack_channels = ["sales leadership"]
msteams = ["lead-ership"]
[[teams]]
name = "Seoul"
slack_channel = "#sales seoul"
msteams = "seoul-team"
[[teams]]
name = "Busan"
slack_channel = "#sales-busan"
msteams = "busan"
"##;
    let err = Settings::from_toml(text).unwrap_err().to_string();
    for needle in [
        "public_base_url: \"ftp://files.example.com\" is not an http(s) URL",
        "slack.api_base_url: \"slack\"",
        "msteams.max_attempts: must be at least 1",
        "reports[0] (\"m\").slack_channels[0]: \"sales leadership\" is not a channel",
        "reports[0] (\"m\").msteams[0]: \"lead-ership\" is not a webhook name",
        "teams[0] (\"Seoul\").slack_channel: \"#sales seoul\" is not a channel",
        "teams[0] (\"Seoul\").msteams: \"seoul-team\" is not a webhook name; use letters, digits and '_' (its URL comes from SALESOPS__MSTEAMS__WEBHOOKS__SEOUL_TEAM)",
    ] {
        assert!(err.contains(needle), "missing {needle:?} in:\n{err}");
    }
    assert!(!err.contains("Busan"), "a good team is not named: {err}");
}
