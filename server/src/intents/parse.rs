//! The text forms operators type: durations (`59s`, `59m`, `23h`, `6d`, `4w`), tags
//! (`name`, `name=value`) and tag queries (`a,b=1,!c`), and the free text of owners and reasons.
//! Pure.

use std::time::Duration;

/// The longest maintenance or downtime anyone may ask for (520 weeks, about ten years): long
/// enough for "until further notice", short enough that end times stay representable.
pub const MAX_DURATION: Duration = Duration::from_secs(520 * 7 * 24 * 3600);

/// orchestrator's `SimpleTimeToSeconds`: digits followed by one unit, `s`, `m`, `h`, `d` or `w`.
/// Zero is refused: a window that ends when it begins would silently do nothing, which is the
/// orchestrator bug this replaces (leave the duration out to get the default instead).
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    let text = text.trim();
    let unit = text.chars().last().unwrap_or(' ');
    let digits = &text[..text.len() - unit.len_utf8().min(text.len())];
    let seconds_per_unit: u64 = match unit {
        's' => 1,
        'm' => 60,
        'h' => 3600,
        'd' => 24 * 3600,
        'w' => 7 * 24 * 3600,
        _ => return Err(format!("invalid duration {text:?}: use a number and a unit, e.g. 90s, 30m, 2h, 6d, 4w")),
    };
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return Err(format!("invalid duration {text:?}: use a number and a unit, e.g. 90s, 30m, 2h, 6d, 4w"));
    }
    let seconds = digits
        .parse::<u64>()
        .ok()
        .and_then(|n| n.checked_mul(seconds_per_unit))
        .filter(|s| *s <= MAX_DURATION.as_secs())
        .ok_or_else(|| format!("duration {text:?} is too long (at most {}w)", MAX_DURATION.as_secs() / (7 * 24 * 3600)))?;
    if seconds == 0 {
        return Err(format!("duration {text:?} is zero; give a positive duration, or none for the default"));
    }
    Ok(Duration::from_secs(seconds))
}

/// `90s`, `10m`, `2h`, `6d`, `4w`: the largest unit that divides the duration exactly.
pub fn format_duration(d: Duration) -> String {
    let s = d.as_secs();
    for (unit, size) in [("w", 7 * 24 * 3600), ("d", 24 * 3600), ("h", 3600), ("m", 60)] {
        if s >= size && s.is_multiple_of(size) {
            return format!("{}{unit}", s / size);
        }
    }
    format!("{s}s")
}

/// One term of a tag query: `name` (has the tag), `name=value` (has it with that value),
/// `!name` or `~name` (does not have it), `!name=value` (has it with another value).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TagFilter {
    pub name: String,
    /// `None` for `name` alone; `Some("")` for `name=`.
    pub value: Option<String>,
    pub negate: bool,
}

impl TagFilter {
    /// Parses one term. Unlike orchestrator, which turns every `!` in the text into `~`
    /// (values included), only a leading `!` or `~` negates; and spaces around the name and the
    /// value are dropped (orchestrator kept them: `role = x` was tag "role " with value " x").
    pub fn parse(text: &str) -> Result<TagFilter, String> {
        let text = text.trim();
        let (negate, rest) = match text.strip_prefix('!').or_else(|| text.strip_prefix('~')) {
            Some(rest) => (true, rest.trim_start()),
            None => (false, text),
        };
        let (name, value) = match rest.split_once('=') {
            Some((n, v)) => (n.trim(), Some(v.trim().to_string())),
            None => (rest.trim(), None),
        };
        validate_tag_name(name).map_err(|e| format!("invalid tag {text:?}: {e}"))?;
        if let Some(v) = &value {
            validate_tag_value(v).map_err(|e| format!("invalid tag {text:?}: {e}"))?;
        }
        Ok(TagFilter { name: name.to_string(), value, negate })
    }

    /// Whether an instance with `value_of(name)` (its value for this name, if it has the tag)
    /// matches. orchestrator's four cases.
    pub fn matches(&self, value_of: Option<&str>) -> bool {
        match (&self.value, self.negate, value_of) {
            (None, false, found) => found.is_some(),
            (Some(want), false, found) => found == Some(want.as_str()),
            (None, true, found) => found.is_none(),
            (Some(want), true, found) => found.is_some_and(|v| v != want),
        }
    }

    /// The tag to set (`tag`, `untag`): negation makes no sense there.
    pub fn positive(self, what: &str) -> Result<TagFilter, String> {
        if self.negate {
            return Err(format!("{what} takes a tag, not a negated query (!{})", self.name));
        }
        Ok(self)
    }
}

/// orchestrator's `tagged` syntax: comma-separated terms, all of which must match.
pub fn parse_tag_query(text: &str) -> Result<Vec<TagFilter>, String> {
    if text.trim().is_empty() {
        return Err("empty tag query; give tags like `role=backup,dc=east,!retired`".into());
    }
    text.split(',').map(TagFilter::parse).collect()
}

/// Tag names appear in `a,b=1` queries, so they cannot hold `,` or `=`, nor start with the
/// negation marks.
pub fn validate_tag_name(name: &str) -> Result<(), String> {
    if name.is_empty() {
        return Err("empty tag name".into());
    }
    if name.chars().count() > 128 {
        return Err("tag names are at most 128 characters".into());
    }
    if let Some(c) = name.chars().find(|c| matches!(c, ',' | '=') || c.is_control()) {
        return Err(format!("tag names cannot contain {c:?}"));
    }
    if name.starts_with(['!', '~']) {
        return Err("tag names cannot start with ! or ~ (they negate in queries)".into());
    }
    Ok(())
}

/// Values may hold anything printable except `,`, which would split a `tagged` query.
pub fn validate_tag_value(value: &str) -> Result<(), String> {
    if value.chars().count() > 1024 {
        return Err("tag values are at most 1024 characters".into());
    }
    if let Some(c) = value.chars().find(|c| *c == ',' || c.is_control()) {
        return Err(format!("tag values cannot contain {c:?} (a tagged query could never match it)"));
    }
    Ok(())
}

/// Owners and reasons: required, printable, bounded.
pub fn validate_text(field: &str, text: &str) -> Result<String, String> {
    let text = text.trim();
    if text.is_empty() {
        return Err(format!("{field} is required"));
    }
    if text.chars().count() > 1024 {
        return Err(format!("{field} is at most 1024 characters"));
    }
    if text.chars().any(char::is_control) {
        return Err(format!("{field} cannot contain control characters"));
    }
    Ok(text.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_in_orchestrator_units() {
        assert_eq!(parse_duration("59s"), Ok(Duration::from_secs(59)));
        assert_eq!(parse_duration("59m"), Ok(Duration::from_secs(59 * 60)));
        assert_eq!(parse_duration("23h"), Ok(Duration::from_secs(23 * 3600)));
        assert_eq!(parse_duration("6d"), Ok(Duration::from_secs(6 * 86400)));
        assert_eq!(parse_duration("4w"), Ok(Duration::from_secs(4 * 7 * 86400)));
        assert_eq!(parse_duration(" 2s "), Ok(Duration::from_secs(2)));
        assert_eq!(parse_duration("520w"), Ok(MAX_DURATION));
    }

    #[test]
    fn bad_durations_say_why() {
        for bad in ["", "s", "10", "10x", "1.5h", "-5m", "5 m", "m5", "10ms", "１０s", "10ｓ"] {
            assert!(parse_duration(bad).unwrap_err().contains("invalid duration"), "{bad:?}");
        }
        assert!(parse_duration("0s").unwrap_err().contains("zero"));
        assert!(parse_duration("0w").unwrap_err().contains("zero"));
        assert!(parse_duration("521w").unwrap_err().contains("too long"));
        assert!(parse_duration("99999999999999999999s").unwrap_err().contains("too long"));
        assert!(parse_duration("18446744073709551615w").unwrap_err().contains("too long"));
    }

    #[test]
    fn durations_print_in_their_largest_exact_unit() {
        assert_eq!(format_duration(Duration::from_secs(600)), "10m");
        assert_eq!(format_duration(Duration::from_secs(90)), "90s");
        assert_eq!(format_duration(Duration::from_secs(7200)), "2h");
        assert_eq!(format_duration(Duration::from_secs(14 * 86400)), "2w");
        assert_eq!(format_duration(Duration::from_secs(0)), "0s");
    }

    #[test]
    fn tag_terms() {
        let t = |name: &str, value: Option<&str>, negate| TagFilter { name: name.into(), value: value.map(Into::into), negate };
        assert_eq!(TagFilter::parse("role"), Ok(t("role", None, false)));
        // Spaces around the name and the value are not part of them.
        assert_eq!(TagFilter::parse(" role = backup "), Ok(t("role", Some("backup"), false)));
        assert_eq!(TagFilter::parse("role="), Ok(t("role", Some(""), false)));
        assert_eq!(TagFilter::parse("!role"), Ok(t("role", None, true)));
        assert_eq!(TagFilter::parse("~role=x"), Ok(t("role", Some("x"), true)));
        assert_eq!(TagFilter::parse("url=a=b"), Ok(t("url", Some("a=b"), false)));
        // orchestrator would turn this `!` into `~`; a value keeps it.
        assert_eq!(TagFilter::parse("note=hi!"), Ok(t("note", Some("hi!"), false)));
        assert!(TagFilter::parse("").is_err());
        assert!(TagFilter::parse("=x").is_err());
        assert!(TagFilter::parse("!").is_err());
        assert!(TagFilter::parse("a\nb").is_err());
        assert!(TagFilter::parse("!x").unwrap().positive("tag").is_err());
    }

    #[test]
    fn tag_terms_match_like_orchestrator() {
        let has = TagFilter::parse("role").unwrap();
        let equals = TagFilter::parse("role=backup").unwrap();
        let lacks = TagFilter::parse("!role").unwrap();
        let differs = TagFilter::parse("!role=backup").unwrap();
        for (value, expect) in [(None, [false, false, true, false]), (Some("backup"), [true, true, false, false]), (Some("db"), [true, false, false, true])] {
            let got = [has.matches(value), equals.matches(value), lacks.matches(value), differs.matches(value)];
            assert_eq!(got, expect, "value {value:?}");
        }
    }

    #[test]
    fn tag_queries_are_intersections() {
        let q = parse_tag_query("a,b=1,!c").unwrap();
        assert_eq!(q.len(), 3);
        assert_eq!((q[1].name.as_str(), q[1].value.as_deref()), ("b", Some("1")));
        assert!(q[2].negate);
        assert!(parse_tag_query("").is_err());
        assert!(parse_tag_query("a,,b").is_err());
    }

    #[test]
    fn owners_and_reasons_are_required_text() {
        assert_eq!(validate_text("reason", "  upgrade  "), Ok("upgrade".into()));
        assert!(validate_text("reason", " ").is_err());
        assert!(validate_text("owner", "a\u{7}").is_err());
        assert!(validate_tag_value("a,b").is_err());
        assert!(validate_tag_name("a=b").is_err());
    }
}
