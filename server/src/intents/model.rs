//! Operator intents as plain records, and the commands that change them. Pure: every command
//! carries its own timestamps, so applying the same commands in the same order gives the same
//! set on every node (the store applies them to its tables, raft will apply them on followers).
//!
//! Nothing here reads the clock: whether a window still counts is asked with a `now`.

use super::parse::TagFilter;
use app::model::InstanceKey;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};

/// orchestrator's promotion rules, best first. `must` is refused, as orchestrator does ("not
/// supported yet").
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PromotionRule {
    Prefer,
    Neutral,
    PreferNot,
    MustNot,
}

impl PromotionRule {
    pub fn parse(text: &str) -> Result<PromotionRule, String> {
        match text.trim() {
            "prefer" => Ok(PromotionRule::Prefer),
            "neutral" => Ok(PromotionRule::Neutral),
            "prefer_not" => Ok(PromotionRule::PreferNot),
            "must_not" => Ok(PromotionRule::MustNot),
            "must" => Err("promotion rule \"must\" is not supported (as in orchestrator); use prefer".into()),
            other => Err(format!("invalid promotion rule {other:?}: use prefer, neutral, prefer_not or must_not")),
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            PromotionRule::Prefer => "prefer",
            PromotionRule::Neutral => "neutral",
            PromotionRule::PreferNot => "prefer_not",
            PromotionRule::MustNot => "must_not",
        }
    }

    /// orchestrator's `IsCandidate`: the rule asks for this server to be promoted.
    pub fn is_candidate(self) -> bool {
        self == PromotionRule::Prefer
    }
}

/// A maintenance lock or a downtime: on which server, who, why, and from when until when.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Window {
    pub instance: InstanceKey,
    pub owner: String,
    pub reason: String,
    pub begin: DateTime<Utc>,
    pub end: DateTime<Utc>,
}

impl Window {
    /// A window stops counting at its end time, whether or not it was removed yet.
    pub fn is_active(&self, now: DateTime<Utc>) -> bool {
        now < self.end
    }
}

/// A registered promotion rule (`register-candidate`); expires unless registered again.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Candidate {
    pub instance: InstanceKey,
    pub rule: PromotionRule,
    pub registered: DateTime<Utc>,
    pub expires: DateTime<Utc>,
}

/// One tag; an empty value is orchestrator's "tag without a value".
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Tag {
    pub name: String,
    pub value: String,
}

impl Tag {
    /// orchestrator's `Tag.String()` (`name=value`, `name=` without a value): what `tags`
    /// prints, so scripts parsing it keep working.
    pub fn stored_form(&self) -> String {
        format!("{}={}", self.name, self.value)
    }

    /// orchestrator's `Tag.Display()` (`name` without a value): the topology's tag column.
    pub fn display(&self) -> String {
        if self.value.is_empty() {
            self.name.clone()
        } else {
            self.stored_form()
        }
    }
}

/// Every change to the intents. The only way they change: the store and the in-memory set each
/// apply these, in the same order.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "Command")]
pub enum IntentCommand {
    /// Refused while another maintenance window of the server is active.
    BeginMaintenance(Window),
    EndMaintenance { instance: InstanceKey },
    /// Replaces the server's downtime, if any (orchestrator's behaviour).
    BeginDowntime(Window),
    EndDowntime { instance: InstanceKey },
    RegisterCandidate(Candidate),
    PutTag { instance: InstanceKey, tag: Tag, at: DateTime<Utc> },
    /// Removes tag `name` (only where it has `value`, when given) from `instance`, or from every
    /// server when `instance` is `None`.
    Untag { instance: Option<InstanceKey>, name: String, value: Option<String> },
    /// Removes the windows and registrations that ended at or before `now`.
    Expire { now: DateTime<Utc> },
}

impl IntentCommand {
    /// The audit action, with orchestrator's names.
    pub fn action(&self) -> &'static str {
        match self {
            IntentCommand::BeginMaintenance(_) => "begin-maintenance",
            IntentCommand::EndMaintenance { .. } => "end-maintenance",
            IntentCommand::BeginDowntime(_) => "begin-downtime",
            IntentCommand::EndDowntime { .. } => "end-downtime",
            IntentCommand::RegisterCandidate(_) => "register-candidate",
            IntentCommand::PutTag { .. } => "put-instance-tag",
            IntentCommand::Untag { .. } => "delete-instance-tag",
            IntentCommand::Expire { .. } => "expire-intents",
        }
    }
}

/// Why a command was refused by the current intents.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum Conflict {
    #[error("{} is already in maintenance by {} ({}) until {}", .0.instance, .0.owner, .0.reason, .0.end.format("%Y-%m-%d %H:%M:%S UTC"))]
    InMaintenance(Window),
}

/// What a command changed.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Effect {
    /// Servers whose records changed (for `Untag`: those that lost the tag).
    pub instances: Vec<InstanceKey>,
    /// For `Expire`: what ended.
    pub expired_maintenance: Vec<Window>,
    pub expired_downtime: Vec<Window>,
    pub expired_candidates: Vec<Candidate>,
}

impl Effect {
    fn on(key: &InstanceKey) -> Effect {
        Effect { instances: vec![key.clone()], ..Default::default() }
    }
}

/// Every intent record, as the store holds them (ended ones included until they expire).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct IntentSet {
    pub maintenance: BTreeMap<InstanceKey, Window>,
    pub downtime: BTreeMap<InstanceKey, Window>,
    pub candidates: BTreeMap<InstanceKey, Candidate>,
    /// Server -> tag name -> value.
    pub tags: BTreeMap<InstanceKey, BTreeMap<String, String>>,
}

impl IntentSet {
    /// Applies one command; a refused command changes nothing.
    pub fn apply(&mut self, command: &IntentCommand) -> Result<Effect, Conflict> {
        Ok(match command {
            IntentCommand::BeginMaintenance(w) => {
                if let Some(held) = self.maintenance_of(&w.instance, w.begin) {
                    return Err(Conflict::InMaintenance(held.clone()));
                }
                self.maintenance.insert(w.instance.clone(), w.clone());
                Effect::on(&w.instance)
            }
            IntentCommand::EndMaintenance { instance } => match self.maintenance.remove(instance) {
                Some(_) => Effect::on(instance),
                None => Effect::default(),
            },
            IntentCommand::BeginDowntime(w) => {
                self.downtime.insert(w.instance.clone(), w.clone());
                Effect::on(&w.instance)
            }
            IntentCommand::EndDowntime { instance } => match self.downtime.remove(instance) {
                Some(_) => Effect::on(instance),
                None => Effect::default(),
            },
            IntentCommand::RegisterCandidate(c) => {
                self.candidates.insert(c.instance.clone(), c.clone());
                Effect::on(&c.instance)
            }
            IntentCommand::PutTag { instance, tag, .. } => {
                self.tags.entry(instance.clone()).or_default().insert(tag.name.clone(), tag.value.clone());
                Effect::on(instance)
            }
            IntentCommand::Untag { instance, name, value } => {
                let mut affected = Vec::new();
                for (key, tags) in self.tags.iter_mut() {
                    let here = instance.as_ref().is_none_or(|i| i == key);
                    let matches = tags.get(name).is_some_and(|v| value.as_ref().is_none_or(|want| want == v));
                    if here && matches {
                        tags.remove(name);
                        affected.push(key.clone());
                    }
                }
                self.tags.retain(|_, tags| !tags.is_empty());
                Effect { instances: affected, ..Default::default() }
            }
            IntentCommand::Expire { now } => {
                let mut effect = Effect::default();
                let ended = |m: &mut BTreeMap<InstanceKey, Window>| {
                    let gone: Vec<Window> = m.values().filter(|w| !w.is_active(*now)).cloned().collect();
                    m.retain(|_, w| w.is_active(*now));
                    gone
                };
                effect.expired_maintenance = ended(&mut self.maintenance);
                effect.expired_downtime = ended(&mut self.downtime);
                effect.expired_candidates = self.candidates.values().filter(|c| c.expires <= *now).cloned().collect();
                self.candidates.retain(|_, c| c.expires > *now);
                effect
            }
        })
    }

    /// The server's maintenance window, if active at `now`.
    pub fn maintenance_of(&self, key: &InstanceKey, now: DateTime<Utc>) -> Option<&Window> {
        self.maintenance.get(key).filter(|w| w.is_active(now))
    }

    /// The server's downtime, if active at `now`.
    pub fn downtime_of(&self, key: &InstanceKey, now: DateTime<Utc>) -> Option<&Window> {
        self.downtime.get(key).filter(|w| w.is_active(now))
    }

    /// The server's registered promotion rule, if not expired at `now`.
    pub fn promotion_rule_of(&self, key: &InstanceKey, now: DateTime<Utc>) -> Option<PromotionRule> {
        self.candidates.get(key).filter(|c| c.expires > now).map(|c| c.rule)
    }

    /// Active maintenance windows, by server.
    pub fn active_maintenance(&self, now: DateTime<Utc>) -> Vec<&Window> {
        self.maintenance.values().filter(|w| w.is_active(now)).collect()
    }

    /// Whether anything has ended and is still recorded (the caretaker has work).
    pub fn has_expired(&self, now: DateTime<Utc>) -> bool {
        self.maintenance.values().chain(self.downtime.values()).any(|w| !w.is_active(now)) || self.candidates.values().any(|c| c.expires <= now)
    }

    /// Whether anything at all is recorded about `key` (it may be unknown to discovery: ending
    /// a window of a forgotten server must still work).
    pub fn has_records(&self, key: &InstanceKey) -> bool {
        self.maintenance.contains_key(key) || self.downtime.contains_key(key) || self.candidates.contains_key(key) || self.tags.contains_key(key)
    }

    /// The server's tags, by name.
    pub fn tags_of(&self, key: &InstanceKey) -> Vec<Tag> {
        self.tags
            .get(key)
            .map(|t| t.iter().map(|(name, value)| Tag { name: name.clone(), value: value.clone() }).collect())
            .unwrap_or_default()
    }

    /// Servers matching every term of a query. `known` are the servers discovery knows: a
    /// negated term (`!name`) also matches those without any tag, which orchestrator missed
    /// (it only looked at servers that had some tag).
    pub fn tagged(&self, query: &[TagFilter], known: impl IntoIterator<Item = InstanceKey>) -> BTreeSet<InstanceKey> {
        let universe: BTreeSet<InstanceKey> = known.into_iter().chain(self.tags.keys().cloned()).collect();
        universe
            .into_iter()
            .filter(|key| {
                let tags = self.tags.get(key);
                query.iter().all(|f| f.matches(tags.and_then(|t| t.get(&f.name)).map(String::as_str)))
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::Duration;

    fn key(n: &str) -> InstanceKey {
        InstanceKey::new(n, 3306)
    }

    fn window(n: &str, begin: DateTime<Utc>, minutes: i64) -> Window {
        Window { instance: key(n), owner: "ops".into(), reason: "upgrade".into(), begin, end: begin + Duration::minutes(minutes) }
    }

    fn t0() -> DateTime<Utc> {
        DateTime::parse_from_rfc3339("2025-01-01T00:00:00Z").unwrap().with_timezone(&Utc)
    }

    #[test]
    fn maintenance_is_exclusive_while_active_and_ends() {
        let mut set = IntentSet::default();
        set.apply(&IntentCommand::BeginMaintenance(window("a", t0(), 10))).unwrap();
        let again = IntentCommand::BeginMaintenance(window("a", t0() + Duration::minutes(5), 10));
        let refused = set.clone().apply(&again).unwrap_err();
        assert!(refused.to_string().contains("already in maintenance by ops (upgrade) until 2025-01-01 00:10:00 UTC"), "{refused}");
        // Once the first window ended, a new one may begin even before the caretaker ran.
        let later = IntentCommand::BeginMaintenance(window("a", t0() + Duration::minutes(10), 10));
        assert!(set.clone().apply(&later).is_ok());
        // Another server is not affected.
        assert!(set.clone().apply(&IntentCommand::BeginMaintenance(window("b", t0(), 10))).is_ok());
        assert_eq!(set.apply(&IntentCommand::EndMaintenance { instance: key("a") }).unwrap().instances, vec![key("a")]);
        assert_eq!(set.apply(&IntentCommand::EndMaintenance { instance: key("a") }).unwrap().instances, vec![]);
        assert!(set.maintenance_of(&key("a"), t0()).is_none());
    }

    #[test]
    fn windows_stop_counting_at_their_end() {
        let mut set = IntentSet::default();
        set.apply(&IntentCommand::BeginDowntime(window("a", t0(), 10))).unwrap();
        set.apply(&IntentCommand::BeginMaintenance(window("a", t0(), 20))).unwrap();
        assert!(set.downtime_of(&key("a"), t0() + Duration::minutes(9)).is_some());
        assert!(set.downtime_of(&key("a"), t0() + Duration::minutes(10)).is_none());
        assert!(set.maintenance_of(&key("a"), t0() + Duration::minutes(10)).is_some());
        assert!(!set.has_expired(t0() + Duration::minutes(9)));
        assert!(set.has_expired(t0() + Duration::minutes(10)));
        let effect = set.apply(&IntentCommand::Expire { now: t0() + Duration::minutes(10) }).unwrap();
        assert_eq!(effect.expired_downtime.len(), 1);
        assert!(effect.expired_maintenance.is_empty());
        assert!(set.downtime.is_empty());
        assert_eq!(set.maintenance.len(), 1);
    }

    #[test]
    fn downtime_replaces_the_previous_one() {
        let mut set = IntentSet::default();
        set.apply(&IntentCommand::BeginDowntime(window("a", t0(), 60))).unwrap();
        set.apply(&IntentCommand::BeginDowntime(window("a", t0(), 1))).unwrap();
        assert!(set.downtime_of(&key("a"), t0() + Duration::minutes(2)).is_none());
    }

    #[test]
    fn candidates_expire() {
        let mut set = IntentSet::default();
        let c = Candidate { instance: key("a"), rule: PromotionRule::Prefer, registered: t0(), expires: t0() + Duration::minutes(60) };
        set.apply(&IntentCommand::RegisterCandidate(c)).unwrap();
        assert_eq!(set.promotion_rule_of(&key("a"), t0() + Duration::minutes(59)), Some(PromotionRule::Prefer));
        assert_eq!(set.promotion_rule_of(&key("a"), t0() + Duration::minutes(60)), None);
        let effect = set.apply(&IntentCommand::Expire { now: t0() + Duration::minutes(60) }).unwrap();
        assert_eq!(effect.expired_candidates.len(), 1);
        assert!(set.candidates.is_empty());
    }

    #[test]
    fn promotion_rules_parse_like_orchestrator() {
        for (text, rule) in [("prefer", PromotionRule::Prefer), ("neutral", PromotionRule::Neutral), ("prefer_not", PromotionRule::PreferNot), ("must_not", PromotionRule::MustNot)] {
            assert_eq!(PromotionRule::parse(text), Ok(rule));
            assert_eq!(rule.as_str(), text);
            assert_eq!(serde_json::to_value(rule).unwrap(), text);
        }
        assert!(PromotionRule::parse("must").unwrap_err().contains("not supported"));
        assert!(PromotionRule::parse("Prefer").is_err());
        assert!(PromotionRule::Prefer.is_candidate() && !PromotionRule::Neutral.is_candidate());
    }

    #[test]
    fn tags_put_untag_and_query() {
        let mut set = IntentSet::default();
        let put = |set: &mut IntentSet, n: &str, name: &str, value: &str| {
            let tag = Tag { name: name.into(), value: value.into() };
            set.apply(&IntentCommand::PutTag { instance: key(n), tag, at: t0() }).unwrap();
        };
        put(&mut set, "a", "role", "backup");
        put(&mut set, "a", "dc", "east");
        put(&mut set, "b", "role", "reporting");
        put(&mut set, "c", "dc", "east");
        put(&mut set, "a", "role", "analytics");
        assert_eq!(set.tags_of(&key("a")).iter().map(Tag::stored_form).collect::<Vec<_>>(), ["dc=east", "role=analytics"]);
        let known = [key("a"), key("b"), key("c"), key("d")];
        let q = |set: &IntentSet, text: &str| set.tagged(&super::super::parse::parse_tag_query(text).unwrap(), known.clone());
        assert_eq!(q(&set, "role"), [key("a"), key("b")].into());
        assert_eq!(q(&set, "role,dc=east"), [key("a")].into());
        assert_eq!(q(&set, "dc=east,!role"), [key("c")].into());
        assert_eq!(q(&set, "!role"), [key("c"), key("d")].into());
        assert_eq!(q(&set, "!role=analytics"), [key("b")].into());

        // Untag with a value only removes matching values; across servers only with a value.
        let effect = set.apply(&IntentCommand::Untag { instance: None, name: "dc".into(), value: Some("west".into()) }).unwrap();
        assert!(effect.instances.is_empty());
        let effect = set.apply(&IntentCommand::Untag { instance: None, name: "dc".into(), value: Some("east".into()) }).unwrap();
        assert_eq!(effect.instances, vec![key("a"), key("c")]);
        assert!(!set.has_records(&key("c")), "a server without tags has no tag record left");
        let effect = set.apply(&IntentCommand::Untag { instance: Some(key("b")), name: "role".into(), value: None }).unwrap();
        assert_eq!(effect.instances, vec![key("b")]);
        assert_eq!(q(&set, "role"), [key("a")].into());
    }

    #[test]
    fn tags_display_as_orchestrator() {
        let bare = Tag { name: "role".into(), value: String::new() };
        assert_eq!((bare.stored_form(), bare.display()), ("role=".to_string(), "role".to_string()));
        let valued = Tag { name: "role".into(), value: "backup".into() };
        assert_eq!((valued.stored_form(), valued.display()), ("role=backup".to_string(), "role=backup".to_string()));
    }

    #[test]
    fn commands_serialize_as_plain_records() {
        let c = IntentCommand::BeginDowntime(window("a", t0(), 10));
        let text = serde_json::to_string(&c).unwrap();
        assert!(text.starts_with(r#"{"Command":"BeginDowntime""#), "{text}");
        assert_eq!(serde_json::from_str::<IntentCommand>(&text).unwrap(), c);
    }
}
