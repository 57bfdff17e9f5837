//! Whose books a report covers: the whole organisation, or one team's
//! sub-snapshot (its member reps, the deals and activities they own, the
//! leads they own). Teams are found once per run, and every team's records
//! come out of one pass over the snapshot (METRICS.md "Teams"). The
//! organisation's team rows read only reps and deals, so a team's
//! activities and leads are listed (`Teams::list_records`) only for runs
//! that make team reports.

use super::quota::email_key;
use crate::snapshot::{Activity, Lead, Select, Snapshot};
use rustc_hash::FxHashMap as HashMap;

/// A `[[teams]]` entry, resolved from config.
#[derive(Debug, Clone, PartialEq)]
pub struct TeamDef {
    pub name: String,
    /// Email of the team's manager (gets the team's report).
    pub manager: Option<String>,
    /// Rep emails (any letter case) or rep ids.
    pub members: Vec<String>,
}

/// A team as found in config and data.
#[derive(Debug, Clone, PartialEq)]
pub struct Team {
    /// `None`: the reps in no team.
    pub name: Option<String>,
    pub manager: Option<String>,
    /// Index into the config's `[[teams]]`, for config teams.
    pub config_index: Option<usize>,
}

/// The records a report covers. `None` lists mean every record.
#[derive(Debug, Clone)]
pub struct Scope {
    /// Rep indexes, in snapshot order.
    pub reps: Option<Vec<u32>>,
    pub deals: Option<Vec<u32>>,
    activities: Option<Vec<u32>>,
    leads: Option<Vec<u32>>,
    /// By rep index: in this scope.
    member: Option<Vec<bool>>,
    /// False for a team's scope until `Teams::list_records` has listed its
    /// activities and leads (until then `None` would read as "all").
    listed: bool,
}

impl Scope {
    /// The whole organisation.
    pub fn all() -> Scope {
        Scope {
            reps: None,
            deals: None,
            activities: None,
            leads: None,
            member: None,
            listed: true,
        }
    }

    pub fn is_all(&self) -> bool {
        self.member.is_none()
    }

    /// True when rep `r` belongs to this scope.
    pub fn has_rep(&self, r: u32) -> bool {
        self.member.as_ref().is_none_or(|m| m[r as usize])
    }

    pub fn rep_indexes(&self, snap: &Snapshot) -> Vec<u32> {
        match &self.reps {
            Some(r) => r.clone(),
            None => (0..snap.reps.len() as u32).collect(),
        }
    }

    pub fn activities<'a>(&'a self, snap: &'a Snapshot) -> Select<'a, Activity> {
        self.check_listed();
        snap.activities.select(self.activities.as_deref())
    }

    pub fn leads<'a>(&'a self, snap: &'a Snapshot) -> Select<'a, Lead> {
        self.check_listed();
        snap.leads.select(self.leads.as_deref())
    }

    /// A team's figures read before its records were listed would be the
    /// whole organisation's: a bug, never a figure.
    fn check_listed(&self) {
        assert!(
            self.listed,
            "a team's activities or leads were read before Teams::list_records listed them"
        );
    }
}

/// The teams of a snapshot and each one's scope, in the spec's order:
/// config teams, then CRM team names not in config (first spelling, in
/// order of first appearance), then the reps in no team when there are any.
pub struct Teams {
    pub teams: Vec<Team>,
    pub scopes: Vec<Scope>,
    /// Config members that name no rep of the snapshot: (team, member).
    pub unmatched: Unmatched,
    /// By rep index: the index of the rep's team (empty without teams).
    team_of_rep: Vec<u32>,
}

/// Config members that name no rep: (team, member).
pub type Unmatched = Vec<(String, String)>;

/// Compared ignoring letter case and surrounding spaces.
fn team_key(name: &str) -> String {
    name.trim().to_lowercase()
}

/// Rep indexes by rep id (how leads name their owner).
fn rep_ids(snap: &Snapshot) -> HashMap<&str, u32> {
    snap.reps
        .iter()
        .enumerate()
        .map(|(i, r)| (r.id.as_str(), i as u32))
        .collect()
}

/// Splits the snapshot by team. Errors when two teams' `members` name the
/// same rep (the message names both teams).
pub fn split(snap: &Snapshot, defs: &[TeamDef]) -> Result<Teams, String> {
    // Members first: they win over the CRM's team.
    let (mut team_of, unmatched) = members(snap, defs)?;
    let mut teams: Vec<Team> = defs
        .iter()
        .enumerate()
        .map(|(i, d)| Team {
            name: Some(d.name.clone()),
            manager: d.manager.clone(),
            config_index: Some(i),
        })
        .collect();
    crm_teams(snap, &mut teams, &mut team_of);
    if team_of.iter().any(|t| t.is_none()) && !teams.is_empty() {
        teams.push(Team {
            name: None,
            manager: None,
            config_index: None,
        });
    }
    // The reps in no team go to the last team (pushed just above).
    let n = teams.len();
    let team_of_rep: Vec<u32> = match n {
        0 => Vec::new(),
        _ => team_of.iter().map(|t| t.unwrap_or(n - 1) as u32).collect(),
    };
    let scopes = scopes(snap, &team_of_rep, n);
    Ok(Teams {
        teams,
        scopes,
        unmatched,
        team_of_rep,
    })
}

/// Each rep's config team by the teams' `members` (rep ids, or emails in
/// any letter case), and the members that name no rep: (team, member).
/// A rep two teams list is an error naming both.
fn members(snap: &Snapshot, defs: &[TeamDef]) -> Result<(Vec<Option<usize>>, Unmatched), String> {
    let by_id = rep_ids(snap);
    let mut by_email: HashMap<String, Vec<u32>> = HashMap::default();
    for (i, r) in snap.reps.iter().enumerate() {
        if let Some(e) = &r.email {
            by_email.entry(email_key(e)).or_default().push(i as u32);
        }
    }
    let mut team_of: Vec<Option<usize>> = vec![None; snap.reps.len()];
    let mut unmatched = Vec::new();
    for (t, d) in defs.iter().enumerate() {
        for m in &d.members {
            let hits: Vec<u32> = match by_id.get(m.trim()) {
                Some(i) => vec![*i],
                None => by_email.get(&email_key(m)).cloned().unwrap_or_default(),
            };
            if hits.is_empty() {
                unmatched.push((d.name.clone(), m.clone()));
            }
            for r in hits {
                match team_of[r as usize] {
                    Some(other) if other != t => {
                        return Err(format!(
                            "teams: rep {:?} is a member of both {:?} and {:?}; list it in one team's members only",
                            snap.reps[r as usize].id, defs[other].name, d.name
                        ))
                    }
                    _ => team_of[r as usize] = Some(t),
                }
            }
        }
    }
    Ok((team_of, unmatched))
}

/// The CRM's team name of each rep no `members` list names: the config
/// team of that name (letter case and spaces ignored), else a team of its
/// own, added in order of first appearance with its first spelling.
fn crm_teams(snap: &Snapshot, teams: &mut Vec<Team>, team_of: &mut [Option<usize>]) {
    let mut by_key: HashMap<String, usize> = teams
        .iter()
        .enumerate()
        .filter_map(|(i, t)| t.name.as_deref().map(|n| (team_key(n), i)))
        .collect();
    for (i, r) in snap.reps.iter().enumerate() {
        if team_of[i].is_some() {
            continue;
        }
        let Some(name) = r.team.as_deref().filter(|n| !n.trim().is_empty()) else {
            continue;
        };
        let t = *by_key.entry(team_key(name)).or_insert_with(|| {
            teams.push(Team {
                name: Some(name.trim().to_string()),
                manager: None,
                config_index: None,
            });
            teams.len() - 1
        });
        team_of[i] = Some(t);
    }
}

/// The scopes of `n` teams: each one's reps and the deals they own, by
/// each rep's team. Activities and leads are listed later, when needed
/// (`Teams::list_records`).
fn scopes(snap: &Snapshot, team_of_rep: &[u32], n: usize) -> Vec<Scope> {
    let mut scopes: Vec<Scope> = (0..n)
        .map(|_| Scope {
            reps: Some(Vec::new()),
            deals: Some(Vec::new()),
            activities: None,
            leads: None,
            member: Some(vec![false; snap.reps.len()]),
            listed: false,
        })
        .collect();
    if n == 0 {
        return scopes;
    }
    let slot = |rep: usize| team_of_rep[rep] as usize;
    for r in 0..snap.reps.len() {
        let s = &mut scopes[slot(r)];
        s.reps.as_mut().unwrap().push(r as u32);
        s.member.as_mut().unwrap()[r] = true;
    }
    for (i, d) in snap.deals.iter().enumerate() {
        scopes[slot(d.owner)].deals.as_mut().unwrap().push(i as u32);
    }
    scopes
}

impl Teams {
    /// Lists each team's activities and leads, in one pass over each, for
    /// the teams' own reports. Activities and leads without a known owner
    /// belong to no team (not even the "no team" row: that is the reps in
    /// no team).
    pub fn list_records(&mut self, snap: &Snapshot) {
        if self.scopes.iter().all(|s| s.listed) {
            return;
        }
        let team_of = &self.team_of_rep;
        let by_id = rep_ids(snap);
        let mut activities = vec![Vec::new(); self.scopes.len()];
        snap.activities.iter().enumerate().for_each(|(i, a)| {
            if let Some(o) = a.owner {
                activities[team_of[o] as usize].push(i as u32);
            }
        });
        let mut leads = vec![Vec::new(); self.scopes.len()];
        for (i, l) in snap.leads.iter().enumerate() {
            if let Some(r) = l.owner.as_deref().and_then(|o| by_id.get(o)) {
                leads[team_of[*r as usize] as usize].push(i as u32);
            }
        }
        for ((s, a), l) in self.scopes.iter_mut().zip(activities).zip(leads) {
            s.activities = Some(a);
            s.leads = Some(l);
            s.listed = true;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn demo() -> (Snapshot, Vec<TeamDef>) {
        let today = chrono::NaiveDate::from_ymd_opt(2026, 8, 1).unwrap();
        let snap = crate::source::demo::generate(today);
        let first = &snap.reps[0];
        // One config team (by email) beside the CRM's teams.
        let defs = vec![TeamDef {
            name: "Config".into(),
            manager: None,
            members: vec![first.email.clone().unwrap_or_else(|| first.id.to_string())],
        }];
        (snap, defs)
    }

    /// Each team lists the activities and leads its members own, in
    /// snapshot order; records of no known rep are in no team.
    #[test]
    fn listed_records_are_the_members_own() {
        let (snap, defs) = demo();
        let mut teams = split(&snap, &defs).unwrap();
        assert!(teams.scopes.len() > 2);
        teams.list_records(&snap);
        let rep_of = |id: &str| snap.reps.iter().position(|r| r.id.as_str() == id);
        let (mut acts, mut leads) = (0, 0);
        for scope in &teams.scopes {
            let want: Vec<u32> = (0..snap.activities.len() as u32)
                .filter(|&i| {
                    let a = &snap.activities[i as usize];
                    a.owner.is_some_and(|o| scope.has_rep(o as u32))
                })
                .collect();
            assert_eq!(scope.activities.as_deref(), Some(&want[..]));
            acts += want.len();
            let want: Vec<u32> = (0..snap.leads.len() as u32)
                .filter(|&i| {
                    let l = &snap.leads[i as usize];
                    let r = l.owner.as_deref().and_then(rep_of);
                    r.is_some_and(|r| scope.has_rep(r as u32))
                })
                .collect();
            assert_eq!(scope.leads.as_deref(), Some(&want[..]));
            leads += want.len();
        }
        let owned = snap.activities.iter().filter(|a| a.owner.is_some()).count();
        assert_eq!(acts, owned);
        assert!(leads > 0);
        // Listing again changes nothing.
        let before: Vec<_> = teams.scopes.iter().map(|s| s.activities.clone()).collect();
        teams.list_records(&snap);
        let after: Vec<_> = teams.scopes.iter().map(|s| s.activities.clone()).collect();
        assert_eq!(before, after);
    }

    /// Before listing, a team's activities are not "every activity".
    #[test]
    #[should_panic(expected = "before Teams::list_records")]
    fn unlisted_team_activities_are_never_read_as_all() {
        let (snap, defs) = demo();
        let teams = split(&snap, &defs).unwrap();
        let _ = teams.scopes[0].activities(&snap).count();
    }

    #[test]
    fn the_organisation_needs_no_listing() {
        let (snap, _) = demo();
        assert_eq!(
            Scope::all().activities(&snap).count(),
            snap.activities.len()
        );
        assert_eq!(Scope::all().leads(&snap).count(), snap.leads.len());
    }
}
