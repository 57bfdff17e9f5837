//! Whose books a report covers: the whole organisation, or one team's
//! sub-snapshot (its member reps, the deals and activities they own, the
//! leads they own). Teams are found once per run, and every team's records
//! come out of one pass over the snapshot (METRICS.md "Teams").

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
#[derive(Debug, Clone, Default)]
pub struct Scope {
    /// Rep indexes, in snapshot order.
    pub reps: Option<Vec<u32>>,
    pub deals: Option<Vec<u32>>,
    pub activities: Option<Vec<u32>>,
    pub leads: Option<Vec<u32>>,
    /// By rep index: in this scope.
    member: Option<Vec<bool>>,
}

impl Scope {
    /// The whole organisation.
    pub fn all() -> Scope {
        Scope::default()
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
        snap.activities.select(self.activities.as_deref())
    }

    pub fn leads<'a>(&'a self, snap: &'a Snapshot) -> Select<'a, Lead> {
        snap.leads.select(self.leads.as_deref())
    }
}

/// The teams of a snapshot and each one's scope, in the spec's order:
/// config teams, then CRM team names not in config (first spelling, in
/// order of first appearance), then the reps in no team when there are any.
pub struct Teams {
    pub teams: Vec<Team>,
    pub scopes: Vec<Scope>,
    /// Config members that name no rep of the snapshot: (team, member).
    pub unmatched: Vec<(String, String)>,
}

/// Compared ignoring letter case and surrounding spaces.
fn team_key(name: &str) -> String {
    name.trim().to_lowercase()
}

/// Splits the snapshot by team. Errors when two teams' `members` name the
/// same rep (the message names both teams).
pub fn split(snap: &Snapshot, defs: &[TeamDef]) -> Result<Teams, String> {
    let mut teams: Vec<Team> = defs
        .iter()
        .enumerate()
        .map(|(i, d)| Team {
            name: Some(d.name.clone()),
            manager: d.manager.clone(),
            config_index: Some(i),
        })
        .collect();
    let mut by_key: HashMap<String, usize> = defs
        .iter()
        .enumerate()
        .map(|(i, d)| (team_key(&d.name), i))
        .collect();

    // Members first: they win over the CRM's team.
    let by_id: HashMap<&str, u32> = snap
        .reps
        .iter()
        .enumerate()
        .map(|(i, r)| (r.id.as_str(), i as u32))
        .collect();
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
    // Then the CRM's team names.
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
    if team_of.iter().any(|t| t.is_none()) && !teams.is_empty() {
        teams.push(Team {
            name: None,
            manager: None,
            config_index: None,
        });
    }
    let none = teams.len().saturating_sub(1);
    let slot = |rep: usize| team_of[rep].unwrap_or(none);

    let n = teams.len();
    let mut scopes: Vec<Scope> = (0..n)
        .map(|_| Scope {
            reps: Some(Vec::new()),
            deals: Some(Vec::new()),
            activities: Some(Vec::new()),
            leads: Some(Vec::new()),
            member: Some(vec![false; snap.reps.len()]),
        })
        .collect();
    if n == 0 {
        return Ok(Teams {
            teams,
            scopes,
            unmatched,
        });
    }
    for r in 0..snap.reps.len() {
        let s = &mut scopes[slot(r)];
        s.reps.as_mut().unwrap().push(r as u32);
        s.member.as_mut().unwrap()[r] = true;
    }
    for (i, d) in snap.deals.iter().enumerate() {
        scopes[slot(d.owner)].deals.as_mut().unwrap().push(i as u32);
    }
    // Activities and leads without a known owner belong to no team (not
    // even the "no team" row: that is the reps in no team).
    snap.activities.iter().enumerate().for_each(|(i, a)| {
        if let Some(o) = a.owner {
            scopes[slot(o)].activities.as_mut().unwrap().push(i as u32);
        }
    });
    for (i, l) in snap.leads.iter().enumerate() {
        if let Some(r) = l.owner.as_deref().and_then(|o| by_id.get(o)) {
            scopes[slot(*r as usize)]
                .leads
                .as_mut()
                .unwrap()
                .push(i as u32);
        }
    }
    Ok(Teams {
        teams,
        scopes,
        unmatched,
    })
}
