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
