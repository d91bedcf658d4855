//! Is a statement read-only? A small lexer that knows MySQL's quoting and comments, then rules on
//! the tokens. Pure.
//!
//! Accepted: exactly one `SELECT`, `SHOW`, `EXPLAIN`, `DESCRIBE`/`DESC` or `WITH ... SELECT`
//! (also `TABLE`, `VALUES` and a parenthesized `(SELECT ...)`), with comments and one trailing
//! `;`. Refused, each with the reason: anything else (writes, DDL, `SET`, `CALL`, ...), several
//! statements, `SELECT ... INTO` (files or variables), locking reads, `EXPLAIN ANALYZE` of a
//! write, functions with side effects (`GET_LOCK`, sequences, `LOAD_FILE`), and executable
//! comments (`/*! ... */`, whose content the server runs).
//!
//! The lexer reads the text twice, with and without backslash escapes in strings: the server's
//! `NO_BACKSLASH_ESCAPES` / `ANSI_QUOTES` modes change where a quoted text ends, and a statement
//! that would split differently under them (`'a\'; DROP TABLE t; -- '`) is refused.

/// A statement that may run.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ReadOnly {
    /// The statement as the server gets it: the text up to its `;`, trimmed.
    pub text: String,
    /// `SELECT`, `SHOW`, `EXPLAIN`, ... (upper case).
    pub verb: String,
}

/// Why a statement may not run.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("statement refused: {0}")]
pub struct NotReadOnly(pub String);

/// Classifies `sql`: the statement to send, or why it may not run.
pub fn classify(sql: &str) -> Result<ReadOnly, NotReadOnly> {
    let with_escapes = lex(sql, true).and_then(|t| rule(sql, &t));
    let literal = lex(sql, false).and_then(|t| rule(sql, &t));
    match (with_escapes, literal) {
        (Ok(a), Ok(b)) if a == b => Ok(a),
        (Err(e), _) => Err(e),
        _ => Err(NotReadOnly(
            "its quoting reads differently with and without backslash escapes (the server's NO_BACKSLASH_ESCAPES or ANSI_QUOTES mode); \
             write a quote inside a string by doubling it ('') instead of \\'"
                .into(),
        )),
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
enum Kind {
    /// An unquoted word (keyword, name, number), upper-cased.
    Word(String),
    /// A quoted string, or an identifier in backticks.
    Quoted,
    Punct(char),
}

#[derive(Clone, Debug)]
struct Token {
    kind: Kind,
    /// Byte offset in the text.
    at: usize,
}

impl Token {
    fn is_word(&self, w: &str) -> bool {
        matches!(&self.kind, Kind::Word(x) if x == w)
    }
    fn word(&self) -> Option<&str> {
        match &self.kind {
            Kind::Word(w) => Some(w),
            _ => None,
        }
    }
    fn is_punct(&self, c: char) -> bool {
        self.kind == Kind::Punct(c)
    }
}

fn refuse<T>(why: impl Into<String>) -> Result<T, NotReadOnly> {
    Err(NotReadOnly(why.into()))
}

/// Tokens outside comments. `backslash_escapes`: whether `\` escapes the next character in
/// '...' and "..." strings (the server's default).
fn lex(sql: &str, backslash_escapes: bool) -> Result<Vec<Token>, NotReadOnly> {
    let bytes = sql.as_bytes();
    let mut tokens = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        let c = bytes[i];
        let starts_line_comment = c == b'#'
            || (c == b'-' && bytes.get(i + 1) == Some(&b'-') && bytes.get(i + 2).is_none_or(|n| n.is_ascii_whitespace() || n.is_ascii_control()));
        if c.is_ascii_whitespace() {
            i += 1;
        } else if starts_line_comment {
            while i < bytes.len() && bytes[i] != b'\n' {
                i += 1;
            }
        } else if c == b'/' && bytes.get(i + 1) == Some(&b'*') {
            let body = &sql[i + 2..];
            if body.starts_with('!') || body.starts_with("M!") {
                return refuse("it contains an executable comment (/*! ... */), whose content the server runs; remove it");
            }
            match body.find("*/") {
                Some(end) => i += 2 + end + 2,
                None => return refuse("it has an unterminated /* comment"),
            }
        } else if matches!(c, b'\'' | b'"' | b'`') {
            let start = i;
            i += 1;
            loop {
                match bytes.get(i) {
                    None => {
                        let what = if c == b'`' { "identifier" } else { "string" };
                        return refuse(format!("it has an unterminated quoted {what} starting at byte {start}"));
                    }
                    Some(b'\\') if backslash_escapes && c != b'`' => i += 2,
                    Some(&q) if q == c => {
                        if bytes.get(i + 1) == Some(&c) {
                            i += 2;
                        } else {
                            i += 1;
                            break;
                        }
                    }
                    Some(_) => i += 1,
                }
            }
            tokens.push(Token { kind: Kind::Quoted, at: start });
        } else if c.is_ascii_alphanumeric() || c == b'_' || c == b'$' || c >= 0x80 {
            let start = i;
            while i < bytes.len() && (bytes[i].is_ascii_alphanumeric() || bytes[i] == b'_' || bytes[i] == b'$' || bytes[i] >= 0x80) {
                i += 1;
            }
            tokens.push(Token { kind: Kind::Word(sql[start..i].to_ascii_uppercase()), at: start });
        } else {
            // Multi-byte characters are handled by the word branch; everything else is ASCII.
            tokens.push(Token { kind: Kind::Punct(c as char), at: i });
            i += 1;
        }
    }
    Ok(tokens)
}

/// Rules on one lexing of the text.
fn rule(sql: &str, tokens: &[Token]) -> Result<ReadOnly, NotReadOnly> {
    let mut statements = tokens.split(|t| t.is_punct(';')).filter(|s| !s.is_empty());
    let Some(first) = statements.next() else {
        return refuse("there is no statement (only comments or nothing)");
    };
    if statements.next().is_some() {
        return refuse("it holds several statements; run one at a time");
    }
    let end = tokens.iter().find(|t| t.is_punct(';')).map(|t| t.at).unwrap_or(sql.len());
    let text = sql[first[0].at..end].trim_end().to_string();
    let verb = statement(first)?;
    Ok(ReadOnly { text, verb })
}

/// Rules on one statement's tokens; returns its verb.
fn statement(tokens: &[Token]) -> Result<String, NotReadOnly> {
    // `(SELECT ...) UNION (SELECT ...)`
    let lead = tokens.iter().take_while(|t| t.is_punct('(')).count();
    let Some(verb) = tokens.get(lead).and_then(Token::word) else {
        return refuse("it does not start with a SQL keyword");
    };
    let verb = verb.to_string();
    match verb.as_str() {
        "SELECT" | "TABLE" | "VALUES" => select_like(tokens)?,
        "WITH" if lead == 0 => {
            let main = with_main_statement(tokens)?;
            match main.word() {
                Some("SELECT" | "TABLE" | "VALUES") => {}
                _ if main.is_punct('(') => {}
                Some(other) => return refuse(format!("WITH ... {other} {}", refusal_reason(other))),
                None => return refuse("WITH must be followed by a SELECT"),
            }
            select_like(tokens)?
        }
        "SHOW" if lead == 0 => {}
        "EXPLAIN" | "DESCRIBE" | "DESC" if lead == 0 => explain(tokens)?,
        other => {
            return refuse(format!(
                "{other} {}; only SELECT, SHOW, EXPLAIN, DESCRIBE and WITH ... SELECT may run",
                refusal_reason(other)
            ))
        }
    }
    Ok(verb)
}

/// Why a statement kind is not read-only.
fn refusal_reason(verb: &str) -> &'static str {
    match verb {
        "INSERT" | "UPDATE" | "DELETE" | "REPLACE" | "MERGE" => "writes rows",
        "CREATE" | "DROP" | "ALTER" | "RENAME" | "TRUNCATE" => "changes the schema",
        "SET" => "changes settings or variables",
        "GRANT" | "REVOKE" => "changes privileges",
        "CALL" => "runs a stored procedure, which may write",
        "DO" => "evaluates expressions for their side effects",
        "LOAD" | "IMPORT" => "loads data",
        "LOCK" | "UNLOCK" => "takes or releases locks",
        "HANDLER" => "opens tables for direct access",
        "FLUSH" | "RESET" | "PURGE" | "KILL" | "SHUTDOWN" | "RESTART" | "STOP" | "START" | "CHANGE" | "INSTALL" | "UNINSTALL" | "CLONE" => {
            "changes the server's state"
        }
        "BEGIN" | "COMMIT" | "ROLLBACK" | "SAVEPOINT" | "RELEASE" | "XA" => "controls transactions",
        "PREPARE" | "EXECUTE" | "DEALLOCATE" => "runs dynamic SQL",
        "ANALYZE" | "OPTIMIZE" | "REPAIR" | "CHECKSUM" | "CHECK" => "works on tables (ANALYZE also runs the statement it analyzes)",
        "USE" => "changes the session's database (qualify table names instead)",
        _ => "is not a read-only statement",
    }
}

/// Functions that change something when a SELECT calls them.
const SIDE_EFFECT_FUNCTIONS: &[(&str, &str)] = &[
    ("GET_LOCK", "takes a named lock"),
    ("RELEASE_LOCK", "releases a named lock"),
    ("RELEASE_ALL_LOCKS", "releases named locks"),
    ("NEXTVAL", "advances a sequence"),
    ("SETVAL", "sets a sequence"),
    ("LOAD_FILE", "reads a file on the server's host"),
];

/// SELECT-like statements: no `INTO`, no locking reads, no side-effect functions.
fn select_like(tokens: &[Token]) -> Result<(), NotReadOnly> {
    for (n, t) in tokens.iter().enumerate() {
        let next = |k: usize| tokens.get(n + k).and_then(Token::word);
        let Some(word) = t.word() else { continue };
        match word {
            "INTO" => {
                return match next(1) {
                    Some(w @ ("OUTFILE" | "DUMPFILE")) => refuse(format!("SELECT ... INTO {w} writes a file on the server")),
                    _ => refuse("SELECT ... INTO assigns variables; select the values instead"),
                }
            }
            "FOR" if matches!(next(1), Some("UPDATE" | "SHARE")) => {
                return refuse(format!("SELECT ... FOR {} takes row locks", next(1).unwrap_or_default()));
            }
            "LOCK" if next(1) == Some("IN") => return refuse("SELECT ... LOCK IN SHARE MODE takes row locks"),
            "NEXT" if next(1) == Some("VALUE") && next(2) == Some("FOR") => return refuse("NEXT VALUE FOR advances a sequence"),
            _ => {}
        }
        if let Some((name, why)) = SIDE_EFFECT_FUNCTIONS.iter().find(|(f, _)| *f == word) {
            if tokens.get(n + 1).is_some_and(|p| p.is_punct('(')) {
                return refuse(format!("{name}() {why}"));
            }
        }
    }
    Ok(())
}

/// The statement after a `WITH` clause: skips `RECURSIVE` and each `name [(columns)] AS (...)`.
fn with_main_statement(tokens: &[Token]) -> Result<&Token, NotReadOnly> {
    let mut i = 1;
    if tokens.get(i).is_some_and(|t| t.is_word("RECURSIVE")) {
        i += 1;
    }
    loop {
        // name
        match tokens.get(i) {
            Some(t) if t.word().is_some() || t.kind == Kind::Quoted => i += 1,
            _ => return refuse("WITH must name a common table expression"),
        }
        if tokens.get(i).is_some_and(|t| t.is_punct('(')) {
            i = after_group(tokens, i)?;
        }
        if !tokens.get(i).is_some_and(|t| t.is_word("AS")) {
            return refuse("WITH name must be followed by AS (...)");
        }
        i += 1;
        if !tokens.get(i).is_some_and(|t| t.is_punct('(')) {
            return refuse("WITH name AS must be followed by a parenthesized query");
        }
        i = after_group(tokens, i)?;
        match tokens.get(i) {
            Some(t) if t.is_punct(',') => i += 1,
            Some(t) => return Ok(t),
            None => return refuse("WITH must be followed by a SELECT"),
        }
    }
}

/// The index after the parenthesized group opening at `open`.
fn after_group(tokens: &[Token], open: usize) -> Result<usize, NotReadOnly> {
    let mut depth = 0usize;
    for (n, t) in tokens.iter().enumerate().skip(open) {
        if t.is_punct('(') {
            depth += 1;
        } else if t.is_punct(')') {
            depth -= 1;
            if depth == 0 {
                return Ok(n + 1);
            }
        }
    }
    refuse("it has unbalanced parentheses")
}

/// `EXPLAIN` shows a plan without running the statement, except `EXPLAIN ANALYZE`, which runs
/// it: then the statement must be read-only itself.
fn explain(tokens: &[Token]) -> Result<(), NotReadOnly> {
    const STATEMENTS: &[&str] = &["SELECT", "WITH", "TABLE", "VALUES", "INSERT", "UPDATE", "DELETE", "REPLACE"];
    // The options between EXPLAIN and the explained statement (`ANALYZE`, `FORMAT = TREE`, ...).
    let start = tokens
        .iter()
        .position(|t| t.is_punct('(') || t.word().is_some_and(|w| STATEMENTS.contains(&w)))
        .unwrap_or(tokens.len());
    if !tokens[..start].iter().any(|t| t.is_word("ANALYZE")) {
        return Ok(());
    }
    if start == tokens.len() {
        return refuse("EXPLAIN ANALYZE must be followed by a statement");
    }
    statement(&tokens[start..]).map_err(|NotReadOnly(why)| NotReadOnly(format!("EXPLAIN ANALYZE runs the statement it explains, and {why}")))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ok(sql: &str) -> ReadOnly {
        classify(sql).unwrap_or_else(|e| panic!("{sql:?} should run: {e}"))
    }

    fn refused(sql: &str, why: &str) {
        match classify(sql) {
            Ok(r) => panic!("{sql:?} should be refused, got {r:?}"),
            Err(NotReadOnly(m)) => assert!(m.contains(why), "{sql:?}: {m:?} should contain {why:?}"),
        }
    }

    #[test]
    fn read_only_statements_run() {
        assert_eq!(ok("SELECT 1"), ReadOnly { text: "SELECT 1".into(), verb: "SELECT".into() });
        assert_eq!(ok(" SHOW PROCESSLIST").text, "SHOW PROCESSLIST");
        assert_eq!(ok("show full processlist;").verb, "SHOW");
        assert_eq!(ok("select @@version ;  ").text, "select @@version");
        assert_eq!(ok("\n\t explain select * from t").verb, "EXPLAIN");
        assert_eq!(ok("DESCRIBE mysql.user").verb, "DESCRIBE");
        assert_eq!(ok("desc mysql.user").verb, "DESC");
        assert_eq!(ok("EXPLAIN DELETE FROM t").verb, "EXPLAIN"); // shows a plan, runs nothing
        assert_eq!(ok("EXPLAIN ANALYZE SELECT * FROM t").verb, "EXPLAIN");
        assert_eq!(ok("EXPLAIN SELECT analyze FROM t").verb, "EXPLAIN");
        assert_eq!(ok("WITH a AS (SELECT 1 AS x), b (y) AS (SELECT 2) SELECT * FROM a, b").verb, "WITH");
        assert_eq!(ok("WITH RECURSIVE n AS (SELECT 1 AS i UNION ALL SELECT i + 1 FROM n WHERE i < 3) SELECT * FROM n").verb, "WITH");
        assert_eq!(ok("(SELECT 1) UNION (SELECT 2)").verb, "SELECT");
        assert_eq!(ok("TABLE mysql.user").verb, "TABLE");
        assert_eq!(ok("SELECT REPLACE('a', 'a', 'b'), INSERT('abc', 1, 1, 'x')").verb, "SELECT");
        assert_eq!(ok("SELECT `update`, `into` FROM `delete`").verb, "SELECT");
        assert_eq!(ok("SELECT SLEEP(0)").verb, "SELECT");
        assert_eq!(ok("SELECT PREVIOUS VALUE FOR s").verb, "SELECT");
    }

    #[test]
    fn comments_and_strings_hide_nothing_and_reveal_nothing() {
        assert_eq!(ok("/* who */ SELECT 1").text, "SELECT 1");
        assert_eq!(ok("-- leading comment\nSELECT 1 -- trailing ; comment").text, "SELECT 1 -- trailing ; comment");
        assert_eq!(ok("# hash comment\nSHOW STATUS").verb, "SHOW");
        assert_eq!(ok("SELECT 'a;b', \"c;d\", `e;f`").verb, "SELECT");
        assert_eq!(ok("SELECT 'it''s; DROP TABLE t'").verb, "SELECT");
        assert_eq!(ok("SELECT /*+ MAX_EXECUTION_TIME(1000) */ 1").verb, "SELECT");
        assert_eq!(ok("SELECT 1 --1").verb, "SELECT"); // `--1` is minus minus one, not a comment
        assert_eq!(ok("SELECT 1; -- done").text, "SELECT 1");
        assert_eq!(ok("SELECT 'DELETE FROM t'").verb, "SELECT");
        refused("/* SELECT */ DELETE FROM t", "DELETE writes rows");
        refused("-- SELECT\nDROP TABLE t", "DROP changes the schema");
        refused("SELECT 1 --1\n; DROP TABLE t", "several statements");
        refused("", "no statement");
        refused("  -- only a comment", "no statement");
        refused(";", "no statement");
        refused("SELECT 'unterminated", "unterminated quoted string");
        refused("SELECT 1 /* open", "unterminated /* comment");
    }

    #[test]
    fn writes_and_state_changes_are_refused_with_the_reason() {
        refused("INSERT INTO t VALUES (1)", "INSERT writes rows");
        refused("update t set a = 1", "UPDATE writes rows");
        refused("delete from t", "DELETE writes rows");
        refused("REPLACE INTO t VALUES (1)", "REPLACE writes rows");
        refused("CREATE TABLE t (a int)", "changes the schema");
        refused("drop database x", "DROP changes the schema");
        refused("ALTER TABLE t ADD b int", "changes the schema");
        refused("TRUNCATE t", "changes the schema");
        refused("SET GLOBAL read_only = 0", "SET changes settings");
        refused("GRANT ALL ON *.* TO x", "changes privileges");
        refused("CALL p()", "stored procedure");
        refused("LOAD DATA INFILE 'x' INTO TABLE t", "loads data");
        refused("LOCK TABLES t READ", "locks");
        refused("FLUSH TABLES WITH READ LOCK", "server's state");
        refused("STOP SLAVE", "server's state");
        refused("KILL 5", "server's state");
        refused("DO GET_LOCK('x', 1)", "side effects");
        refused("ANALYZE SELECT 1", "ANALYZE");
        refused("HANDLER t OPEN", "direct access");
        refused("BEGIN", "transactions");
        refused("frobnicate", "not a read-only statement");
        refused("'SELECT'", "does not start with a SQL keyword");
        refused("(DELETE FROM t)", "DELETE writes rows");
    }

    #[test]
    fn select_forms_that_write_or_lock_are_refused() {
        refused("SELECT * FROM t INTO OUTFILE '/tmp/x'", "INTO OUTFILE writes a file");
        refused("select * into dumpfile '/tmp/x' from t", "INTO DUMPFILE writes a file");
        refused("SELECT a INTO @x FROM t", "assigns variables");
        refused("SELECT * FROM t FOR UPDATE", "FOR UPDATE takes row locks");
        refused("SELECT * FROM t WHERE a IN (SELECT a FROM u FOR SHARE)", "FOR SHARE takes row locks");
        refused("SELECT * FROM t LOCK IN SHARE MODE", "LOCK IN SHARE MODE");
        refused("SELECT GET_LOCK('x', 10)", "GET_LOCK() takes a named lock");
        refused("select nextval(s)", "NEXTVAL() advances a sequence");
        refused("SELECT NEXT VALUE FOR s", "advances a sequence");
        refused("SELECT LOAD_FILE('/etc/passwd')", "reads a file");
        refused("WITH a AS (SELECT 1) SELECT * FROM a INTO OUTFILE '/tmp/x'", "INTO OUTFILE");
    }

    #[test]
    fn several_statements_are_refused() {
        refused("SELECT 1; SELECT 2", "several statements");
        refused("SELECT 1; DROP TABLE t", "several statements");
        refused("SHOW PROCESSLIST;DELETE FROM t;", "several statements");
        refused("select 1;;select 2", "several statements");
    }

    #[test]
    fn with_and_explain_analyze_look_at_the_statement_that_runs() {
        refused("WITH a AS (SELECT 1) DELETE FROM t", "WITH ... DELETE writes rows");
        refused("WITH a AS (SELECT 1) UPDATE t SET x = 1", "WITH ... UPDATE writes rows");
        refused("WITH a AS (SELECT 1)", "must be followed by a SELECT");
        refused("WITH", "must name");
        refused("EXPLAIN ANALYZE DELETE FROM t", "EXPLAIN ANALYZE runs the statement it explains, and DELETE writes rows");
        refused("EXPLAIN ANALYZE FORMAT=TREE UPDATE t SET a = 1", "UPDATE writes rows");
        refused("EXPLAIN ANALYZE SELECT * FROM t FOR UPDATE", "row locks");
    }

    #[test]
    fn executable_comments_are_refused() {
        refused("SELECT 1 /*! , 2 */", "executable comment");
        refused("/*!50000 DROP TABLE t */", "executable comment");
        refused("SELECT 1 /*M!100000 ; DROP TABLE t */", "executable comment");
        refused("SELECT '/*!' , 1 /*! INTO OUTFILE '/tmp/x' */", "executable comment");
    }

    #[test]
    fn quoting_that_depends_on_the_sql_mode_is_refused() {
        // With backslash escapes the string is `a'; DROP TABLE t; -- `; without them (the
        // server's NO_BACKSLASH_ESCAPES mode) the DROP is a second statement.
        refused("SELECT 'a\\'; DROP TABLE t; -- '", "reads differently");
        // In ANSI_QUOTES mode "..." is an identifier, where \ does not escape either.
        refused("SELECT \"a\\\"; DROP TABLE t; -- \"", "reads differently");
        // A backslash that changes nothing is fine.
        assert_eq!(ok("SELECT 'a\\nb', 'C:\\\\dir'").verb, "SELECT");
    }
}
