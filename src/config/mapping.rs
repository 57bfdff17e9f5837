//! `[source.hubspot]`, `[source.salesforce]`, `[source.pipedrive]`: what
//! differs between CRMs when they are mapped into the snapshot (pipelines,
//! the forecast-category field, first response, activity types, currency,
//! deal types, deal history and rep teams).
//!
//! With no section a connector maps exactly as the shared MAPPING.md says;
//! every key's doc states that default. Value maps (types → kinds, values →
//! forecast categories) are added on top of the built-in defaults and
//! compared ignoring case. Pure: no I/O.

use crate::snapshot::{ActivityKind, DealType, ForecastCategory};
use serde::Deserialize;
use std::collections::{BTreeMap, HashMap};

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HubspotMapping {
    /// Ids of the deal pipelines whose stages and deals are pulled (e.g.
    /// ["default", "1038553758"]). Default: all pipelines.
    #[serde(default)]
    pub pipelines: Vec<String>,
    /// Deal property holding the forecast category. Default
    /// "hs_manual_forecast_category".
    #[serde(default = "hs::forecast_category_property")]
    pub forecast_category_property: String,
    /// Property value → forecast category (omitted, pipeline, best_case,
    /// commit, closed), on top of the defaults OMIT → omitted, PIPELINE →
    /// pipeline, BEST_CASE → best_case, COMMIT → commit, CLOSED → closed.
    #[serde(default)]
    pub forecast_categories: BTreeMap<String, String>,
    /// Deal property holding the deal's currency; deals in another currency
    /// than `currency` are listed in the data-quality notes (amounts are not
    /// converted). "" = no check. Default "deal_currency_code".
    #[serde(default = "hs::currency_property")]
    pub currency_property: String,
    /// Contact properties tried in order for the lead's first response.
    /// Default ["hs_first_outreach_date", "hs_sa_first_engagement_date"].
    #[serde(default = "hs::first_response_properties")]
    pub first_response_properties: Vec<String>,
    /// Contact property holding a lead score computed by HubSpot. "" =
    /// none. Default "hubspotscore".
    #[serde(default = "hs::score_property")]
    pub score_property: String,
    /// Task `hs_task_type` → activity kind, on top of the defaults CALL →
    /// call, EMAIL → email, LINKED_IN → social; any other type is a task.
    #[serde(default)]
    pub task_types: BTreeMap<String, String>,
    /// Call and meeting `hs_activity_type` (the portal's own call and
    /// meeting types) → activity kind, e.g. { "Training" = "training" }.
    /// Default: none (calls are calls, meetings are meetings).
    #[serde(default)]
    pub activity_types: BTreeMap<String, String>,
    /// Deal property holding the kind of business. "" = no deal types.
    /// Default "dealtype".
    #[serde(default = "hs::deal_type_property")]
    pub deal_type_property: String,
    /// Property value → deal type (new_business, upsell, cross_sell,
    /// renewal), on top of the defaults newbusiness → new_business,
    /// existingbusiness → upsell (HubSpot's two options), e.g. { crosssell
    /// = "cross_sell", renewal = "renewal" } for the portal's own options.
    /// Any other value is untyped and listed in a data-quality note.
    /// Default: none.
    #[serde(default)]
    pub deal_types: BTreeMap<String, String>,
    /// Pull deal history (`propertiesWithHistory` of the stage, amount,
    /// close date and forecast-category properties), which makes the deal
    /// list 50 deals a page instead of 100. false = no history. Default
    /// true.
    #[serde(default = "yes")]
    pub history: bool,
    /// The rep's team from the owner's `teams` (the primary one, else the
    /// first). false = ignore CRM teams. Default true.
    #[serde(default = "yes")]
    pub rep_teams: bool,
}

fn yes() -> bool {
    true
}

mod hs {
    pub fn forecast_category_property() -> String {
        "hs_manual_forecast_category".into()
    }
    pub fn currency_property() -> String {
        "deal_currency_code".into()
    }
    pub fn first_response_properties() -> Vec<String> {
        vec![
            "hs_first_outreach_date".into(),
            "hs_sa_first_engagement_date".into(),
        ]
    }
    pub fn score_property() -> String {
        "hubspotscore".into()
    }
    pub fn deal_type_property() -> String {
        "dealtype".into()
    }
}

impl Default for HubspotMapping {
    fn default() -> Self {
        HubspotMapping {
            pipelines: Vec::new(),
            forecast_category_property: hs::forecast_category_property(),
            forecast_categories: BTreeMap::new(),
            currency_property: hs::currency_property(),
            first_response_properties: hs::first_response_properties(),
            score_property: hs::score_property(),
            task_types: BTreeMap::new(),
            activity_types: BTreeMap::new(),
            deal_type_property: hs::deal_type_property(),
            deal_types: BTreeMap::new(),
            history: true,
            rep_teams: true,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SalesforceMapping {
    /// A SOQL condition that picks the opportunities to pull, e.g.
    /// "RecordType.DeveloperName = 'New_Business'". Default: all.
    #[serde(default)]
    pub opportunity_filter: Option<String>,
    /// A SOQL condition that picks the users who are reps. "" = every
    /// user. Default "UserType = 'Standard'" (licensed internal users).
    #[serde(default = "sf::user_filter")]
    pub user_filter: String,
    /// Opportunity field holding the forecast category. Default
    /// "ForecastCategoryName".
    #[serde(default = "sf::forecast_category_field")]
    pub forecast_category_field: String,
    /// Field value → forecast category, on top of the defaults Omitted,
    /// Pipeline, Best Case (BestCase), Commit (Forecast), Closed.
    #[serde(default)]
    pub forecast_categories: BTreeMap<String, String>,
    /// Opportunity field holding the currency; set "CurrencyIsoCode" in a
    /// multi-currency org to list deals in another currency than
    /// `currency` in the data-quality notes. Default "" (single-currency
    /// org: no check).
    #[serde(default)]
    pub currency_field: String,
    /// Task and Event `Type` (or, when it is empty or not listed,
    /// `TaskSubtype`/`EventSubtype`) → activity kind, on top of the
    /// defaults Call → call, Email → email, Meeting → meeting, Event →
    /// meeting; any other is a task (an Event with neither is a meeting).
    #[serde(default)]
    pub activity_types: BTreeMap<String, String>,
    /// Lead field holding the first response time. Default "": the
    /// earliest Task or Event logged on the lead (its CreatedDate).
    #[serde(default)]
    pub first_response_field: String,
    /// Lead field holding a lead score. Default "" (none).
    #[serde(default)]
    pub score_field: String,
    /// Opportunity field holding the kind of business. "" = no deal
    /// types. Default "Type".
    #[serde(default = "sf::deal_type_field")]
    pub deal_type_field: String,
    /// Field value → deal type (new_business, upsell, cross_sell,
    /// renewal), on top of the defaults New Customer → new_business,
    /// Existing Customer - Upgrade → upsell, Existing Customer -
    /// Replacement → renewal, Existing Customer - Downgrade → renewal, e.g.
    /// { "Renewal" = "renewal", "Cross-sell" = "cross_sell" }. Any other
    /// value is untyped and listed in a data-quality note. Default: none.
    #[serde(default)]
    pub deal_types: BTreeMap<String, String>,
    /// Pull deal history (one paged OpportunityHistory query). false = no
    /// history. Default true.
    #[serde(default = "yes")]
    pub history: bool,
    /// User field or relationship path holding the rep's team. "" = no
    /// teams from Salesforce. Default "UserRole.Name".
    #[serde(default = "sf::team_field")]
    pub team_field: String,
}

mod sf {
    pub fn user_filter() -> String {
        "UserType = 'Standard'".into()
    }
    pub fn forecast_category_field() -> String {
        "ForecastCategoryName".into()
    }
    pub fn deal_type_field() -> String {
        "Type".into()
    }
    pub fn team_field() -> String {
        "UserRole.Name".into()
    }
}

impl Default for SalesforceMapping {
    fn default() -> Self {
        SalesforceMapping {
            opportunity_filter: None,
            user_filter: sf::user_filter(),
            forecast_category_field: sf::forecast_category_field(),
            forecast_categories: BTreeMap::new(),
            currency_field: String::new(),
            activity_types: BTreeMap::new(),
            first_response_field: String::new(),
            score_field: String::new(),
            deal_type_field: sf::deal_type_field(),
            deal_types: BTreeMap::new(),
            history: true,
            team_field: sf::team_field(),
        }
    }
}

#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PipedriveMapping {
    /// Ids of the pipelines whose stages and deals are pulled (e.g. [1, 3]).
    /// Default: all pipelines.
    #[serde(default)]
    pub pipelines: Vec<u64>,
    /// Activity `type` (its key string) → activity kind, on top of the
    /// defaults call → call, meeting → meeting, email → email; any other
    /// type is a task.
    #[serde(default)]
    pub activity_types: BTreeMap<String, String>,
    /// Key (the 40-character hash) of a deal custom field holding the
    /// forecast category. Default "" (Pipedrive has no forecast category).
    #[serde(default)]
    pub forecast_category_field: String,
    /// Custom field value (text, or an option id) → forecast category.
    /// Default: none (values are read as the canonical names).
    #[serde(default)]
    pub forecast_categories: BTreeMap<String, String>,
    /// Key (the 40-character hash) of a deal custom field holding the kind
    /// of business. Default "" (Pipedrive has no deal type).
    #[serde(default)]
    pub deal_type_field: String,
    /// Custom field value (text, or an option id) → deal type
    /// (new_business, upsell, cross_sell, renewal), e.g. { "41" =
    /// "renewal", "42" = "cross_sell" }. Any other value is untyped and
    /// listed in a data-quality note. Default: none.
    #[serde(default)]
    pub deal_types: BTreeMap<String, String>,
    /// Pull deal history: one changelog request per deal (or more), within
    /// the rate limit; weigh it against the daily token budget. Default
    /// false.
    #[serde(default)]
    pub history: bool,
}

/// A vendor value → canonical value table; keys compared ignoring case.
#[derive(Debug, Clone)]
pub struct Lookup<T>(HashMap<String, T>);

impl<T: Copy> Lookup<T> {
    pub fn get(&self, key: &str) -> Option<T> {
        self.0.get(&key.trim().to_lowercase()).copied()
    }
}

/// The defaults with the user's entries on top; each entry that is not a
/// canonical value becomes an error naming `key.<entry>`.
fn lookup<T: Copy>(
    defaults: &[(&str, T)],
    user: &BTreeMap<String, String>,
    key: &str,
    parse: fn(&str) -> Option<T>,
    names: &str,
) -> Result<Lookup<T>, Vec<String>> {
    let mut map: HashMap<String, T> = defaults
        .iter()
        .map(|(k, v)| (k.to_lowercase(), *v))
        .collect();
    let mut errs = Vec::new();
    for (k, v) in user {
        match parse(v) {
            Some(t) => {
                map.insert(k.trim().to_lowercase(), t);
            }
            None => errs.push(format!("{key}.{k}: {v:?} is not one of {names}")),
        }
    }
    if errs.is_empty() {
        Ok(Lookup(map))
    } else {
        Err(errs)
    }
}

const CATEGORY_NAMES: &str = "omitted, pipeline, best_case, commit, closed";

fn kinds(
    defaults: &[(&str, ActivityKind)],
    user: &BTreeMap<String, String>,
    key: &str,
) -> Result<Lookup<ActivityKind>, Vec<String>> {
    lookup(
        defaults,
        user,
        key,
        ActivityKind::parse,
        "call, meeting, email, social, task, internal_meeting, admin, training, other",
    )
}

fn deal_types(
    defaults: &[(&str, DealType)],
    user: &BTreeMap<String, String>,
    key: &str,
) -> Result<Lookup<DealType>, Vec<String>> {
    lookup(defaults, user, key, DealType::parse, &DealType::names())
}

fn categories(
    defaults: &[(&str, ForecastCategory)],
    user: &BTreeMap<String, String>,
    key: &str,
) -> Result<Lookup<ForecastCategory>, Vec<String>> {
    lookup(defaults, user, key, ForecastCategory::parse, CATEGORY_NAMES)
}

impl HubspotMapping {
    pub fn task_kinds(&self) -> Result<Lookup<ActivityKind>, Vec<String>> {
        use ActivityKind::*;
        kinds(
            &[("CALL", Call), ("EMAIL", Email), ("LINKED_IN", Social)],
            &self.task_types,
            "source.hubspot.task_types",
        )
    }

    pub fn activity_kinds(&self) -> Result<Lookup<ActivityKind>, Vec<String>> {
        kinds(&[], &self.activity_types, "source.hubspot.activity_types")
    }

    pub fn categories(&self) -> Result<Lookup<ForecastCategory>, Vec<String>> {
        use ForecastCategory::*;
        categories(
            &[
                ("OMIT", Omitted),
                ("PIPELINE", Pipeline),
                ("BEST_CASE", BestCase),
                ("COMMIT", Commit),
                ("CLOSED", Closed),
            ],
            &self.forecast_categories,
            "source.hubspot.forecast_categories",
        )
    }

    pub fn deal_types(&self) -> Result<Lookup<DealType>, Vec<String>> {
        use DealType::*;
        deal_types(
            &[("newbusiness", NewBusiness), ("existingbusiness", Upsell)],
            &self.deal_types,
            "source.hubspot.deal_types",
        )
    }

    fn check(&self, errs: &mut Vec<String>) {
        collect(self.task_kinds(), errs);
        collect(self.activity_kinds(), errs);
        collect(self.categories(), errs);
        collect(self.deal_types(), errs);
        required(
            &self.forecast_category_property,
            "source.hubspot.forecast_category_property",
            errs,
        );
    }
}

impl SalesforceMapping {
    pub fn activity_kinds(&self) -> Result<Lookup<ActivityKind>, Vec<String>> {
        use ActivityKind::*;
        kinds(
            &[
                ("Call", Call),
                ("Email", Email),
                ("Meeting", Meeting),
                ("Event", Meeting),
            ],
            &self.activity_types,
            "source.salesforce.activity_types",
        )
    }

    pub fn categories(&self) -> Result<Lookup<ForecastCategory>, Vec<String>> {
        use ForecastCategory::*;
        categories(
            &[
                ("Omitted", Omitted),
                ("Pipeline", Pipeline),
                ("Best Case", BestCase),
                ("BestCase", BestCase),
                ("Commit", Commit),
                ("Forecast", Commit),
                ("Closed", Closed),
            ],
            &self.forecast_categories,
            "source.salesforce.forecast_categories",
        )
    }

    pub fn deal_types(&self) -> Result<Lookup<DealType>, Vec<String>> {
        use DealType::*;
        deal_types(
            &[
                ("New Customer", NewBusiness),
                ("Existing Customer - Upgrade", Upsell),
                ("Existing Customer - Replacement", Renewal),
                ("Existing Customer - Downgrade", Renewal),
            ],
            &self.deal_types,
            "source.salesforce.deal_types",
        )
    }

    fn check(&self, errs: &mut Vec<String>) {
        collect(self.activity_kinds(), errs);
        collect(self.categories(), errs);
        collect(self.deal_types(), errs);
        required(
            &self.forecast_category_field,
            "source.salesforce.forecast_category_field",
            errs,
        );
        for (key, field) in [
            ("currency_field", &self.currency_field),
            ("first_response_field", &self.first_response_field),
            ("score_field", &self.score_field),
            ("forecast_category_field", &self.forecast_category_field),
            ("deal_type_field", &self.deal_type_field),
            ("team_field", &self.team_field),
        ] {
            // Field names go into SOQL: letters, digits, '_' and '.' only.
            if !field
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '.')
            {
                errs.push(format!(
                    "source.salesforce.{key}: {field:?} is not a field API name (e.g. \"Score__c\")"
                ));
            }
        }
    }
}

impl PipedriveMapping {
    pub fn activity_kinds(&self) -> Result<Lookup<ActivityKind>, Vec<String>> {
        use ActivityKind::*;
        kinds(
            &[("call", Call), ("meeting", Meeting), ("email", Email)],
            &self.activity_types,
            "source.pipedrive.activity_types",
        )
    }

    pub fn categories(&self) -> Result<Lookup<ForecastCategory>, Vec<String>> {
        categories(
            &[],
            &self.forecast_categories,
            "source.pipedrive.forecast_categories",
        )
    }

    pub fn deal_types(&self) -> Result<Lookup<DealType>, Vec<String>> {
        deal_types(&[], &self.deal_types, "source.pipedrive.deal_types")
    }

    fn check(&self, errs: &mut Vec<String>) {
        collect(self.activity_kinds(), errs);
        collect(self.categories(), errs);
        collect(self.deal_types(), errs);
    }
}

fn collect<T>(r: Result<T, Vec<String>>, errs: &mut Vec<String>) {
    if let Err(e) = r {
        errs.extend(e);
    }
}

fn required(v: &str, key: &str, errs: &mut Vec<String>) {
    if v.trim().is_empty() {
        errs.push(format!("{key}: must not be empty"));
    }
}

/// Checks the mapping sections of `[source]`: each must belong to the
/// configured kind, and every value must be a canonical one.
pub(super) fn check(src: &super::SourceConfig, errs: &mut Vec<String>) {
    let kind = src.kind.as_str();
    let mut foreign = |name: &str, set: bool| {
        if set && name != kind {
            errs.push(format!(
                "source.{name}: this section is for kind = \"{name}\" but source.kind is \"{kind}\"; remove it or change the kind"
            ));
        }
    };
    foreign("hubspot", src.hubspot.is_some());
    foreign("salesforce", src.salesforce.is_some());
    foreign("pipedrive", src.pipedrive.is_some());
    if let Some(m) = &src.hubspot {
        m.check(errs);
    }
    if let Some(m) = &src.salesforce {
        m.check(errs);
    }
    if let Some(m) = &src.pipedrive {
        m.check(errs);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn user_entries_go_on_top_of_the_defaults_ignoring_case() {
        let mut m = HubspotMapping::default();
        m.task_types.insert("todo".into(), "admin".into());
        m.task_types.insert("LINKED_IN".into(), "other".into());
        let k = m.task_kinds().unwrap();
        assert_eq!(k.get("CALL"), Some(ActivityKind::Call));
        assert_eq!(k.get("TODO"), Some(ActivityKind::Admin));
        assert_eq!(k.get("linked_in"), Some(ActivityKind::Other));
        assert_eq!(k.get("MEETING"), None);
    }

    #[test]
    fn a_value_that_is_not_canonical_names_its_key() {
        let mut m = SalesforceMapping::default();
        m.activity_types
            .insert("LinkedIn".into(), "linkedin".into());
        m.forecast_categories
            .insert("Most Likely".into(), "likely".into());
        let mut errs = Vec::new();
        m.check(&mut errs);
        assert_eq!(errs.len(), 2, "{errs:?}");
        assert!(errs[0].starts_with("source.salesforce.activity_types.LinkedIn: \"linkedin\""));
        assert!(errs[1].starts_with("source.salesforce.forecast_categories.Most Likely"));
    }

    fn problems(toml: &str) -> String {
        crate::config::Settings::from_toml(toml)
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default()
    }

    #[test]
    fn a_section_for_another_kind_is_an_error() {
        let err = problems(
            "[source]\nkind = \"hubspot\"\ntoken = \"t0ken\"\n[source.salesforce]\nscore_field = \"Score__c\"\n",
        );
        assert!(
            err.contains("source.salesforce: this section is for kind = \"salesforce\" but source.kind is \"hubspot\""),
            "{err}"
        );
    }

    #[test]
    fn a_misspelled_mapping_key_is_rejected() {
        let err = problems(
            "[source]\nkind = \"hubspot\"\ntoken = \"t0ken\"\n[source.hubspot]\npipeline = [\"default\"]\n",
        );
        assert!(
            err.contains("source.hubspot") && err.contains("pipeline"),
            "{err}"
        );
    }

    #[test]
    fn connectors_need_a_token_and_real_urls() {
        let err = problems("[source]\nkind = \"pipedrive\"\nbase_url = \"acme.pipedrive.com\"\n");
        assert!(
            err.contains("source.token: required for kind = \"pipedrive\""),
            "{err}"
        );
        assert!(err.contains("SALESOPS__SOURCE__TOKEN"), "{err}");
        assert!(
            err.contains("source.base_url: \"acme.pipedrive.com\" is not an http(s) URL"),
            "{err}"
        );
        let err = problems(
            "[source]\nkind = \"salesforce\"\ninstance_url = \"https://acme.my.salesforce.com\"\napi_version = \"62\"\ntoken = \"t0ken\"\n",
        );
        assert!(err.contains("source.api_version: \"62\""), "{err}");
        let ok = "[source]\nkind = \"hubspot\"\ntoken = \"t0ken\"\n[source.hubspot]\npipelines = [\"default\"]\ntask_types = { TODO = \"admin\" }\n";
        let s = crate::config::Settings::from_toml(ok).unwrap();
        assert_eq!(
            s.source.hubspot.unwrap().pipelines,
            vec!["default".to_string()]
        );
    }

    #[test]
    fn deal_types_go_on_top_of_each_crms_defaults() {
        let mut m = HubspotMapping::default();
        m.deal_types.insert("CrossSell".into(), "Cross-sell".into());
        let t = m.deal_types().unwrap();
        assert_eq!(t.get("newbusiness"), Some(DealType::NewBusiness));
        assert_eq!(t.get("EXISTINGBUSINESS"), Some(DealType::Upsell));
        assert_eq!(t.get("crosssell"), Some(DealType::CrossSell));
        assert_eq!(t.get("renewal"), None);
        let sf = SalesforceMapping::default().deal_types().unwrap();
        assert_eq!(sf.get("New Customer"), Some(DealType::NewBusiness));
        assert_eq!(
            sf.get("Existing Customer - Downgrade"),
            Some(DealType::Renewal)
        );
        assert_eq!(
            PipedriveMapping::default().deal_types().unwrap().get("41"),
            None
        );
    }

    #[test]
    fn history_teams_and_types_have_their_defaults() {
        let hs = HubspotMapping::default();
        assert!(hs.history && hs.rep_teams);
        assert_eq!(hs.deal_type_property, "dealtype");
        let sf = SalesforceMapping::default();
        assert!(sf.history);
        assert_eq!(
            (sf.deal_type_field.as_str(), sf.team_field.as_str()),
            ("Type", "UserRole.Name")
        );
        let pd = PipedriveMapping::default();
        assert!(!pd.history && pd.deal_type_field.is_empty());
        // The same defaults when a section is there without the keys.
        let s = crate::config::Settings::from_toml(
            "[source]\nkind = \"hubspot\"\ntoken = \"t0ken\"\n[source.hubspot]\npipelines = [\"default\"]\n",
        )
        .unwrap();
        let hs = s.source.hubspot.unwrap();
        assert!(hs.history && hs.rep_teams);
        assert_eq!(hs.deal_type_property, "dealtype");
    }

    #[test]
    fn a_deal_type_that_is_not_canonical_names_its_key_in_every_crm() {
        for (kind, table) in [
            ("hubspot", "{ expansion = \"growth\" }"),
            ("salesforce", "{ \"Expansion\" = \"growth\" }"),
            ("pipedrive", "{ \"41\" = \"growth\" }"),
        ] {
            let err = problems(&format!(
                "[source]\nkind = \"{kind}\"\ntoken = \"t0ken\"\nbase_url = \"https://x.example\"\ninstance_url = \"https://x.example\"\n[source.{kind}]\ndeal_types = {table}\n"
            ));
            assert!(
                err.contains(&format!("source.{kind}.deal_types."))
                    && err.contains(
                        "\"growth\" is not one of new_business, upsell, cross_sell, renewal"
                    ),
                "{err}"
            );
        }
        let m = SalesforceMapping {
            team_field: "UserRole.Name FROM User --".into(),
            deal_type_field: "Type; DELETE".into(),
            ..Default::default()
        };
        let mut errs = Vec::new();
        m.check(&mut errs);
        assert_eq!(errs.len(), 2, "{errs:?}");
        assert!(errs[0].starts_with("source.salesforce.deal_type_field"));
        assert!(errs[1].starts_with("source.salesforce.team_field"));
    }

    #[test]
    fn salesforce_field_names_cannot_inject_soql() {
        let m = SalesforceMapping {
            score_field: "Score__c FROM Lead --".into(),
            ..Default::default()
        };
        let mut errs = Vec::new();
        m.check(&mut errs);
        assert!(
            errs[0].starts_with("source.salesforce.score_field"),
            "{errs:?}"
        );
    }
}
