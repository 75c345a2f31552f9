//! `Compiled::build`: references, cycles, aliases, reporting.

use super::{compile, compile_lenient, def, resolve, rule};
use crate::correlation::Compiled;
use crate::RuleId;

fn corr(name: &str, rules: &[&str], group: &str) -> String {
    format!(
        "title: {name}\nname: {name}\ncorrelation:\n  type: event_count\n  rules: [{}]\n  group-by: [{group}]\n  timespan: 1m\n  condition: {{gte: 2}}\n",
        rules.join(", ")
    )
}

#[test]
fn unknown_reference_is_refused() {
    let (c, refused) = compile_lenient(&[&corr("x", &["no_such_rule"], "User")]);
    assert!(c.is_empty());
    assert_eq!(refused.len(), 1);
    assert_eq!(refused[0].0, RuleId(100));
    assert!(
        refused[0].1.contains("\"no_such_rule\""),
        "{}",
        refused[0].1
    );
}

#[test]
fn references_by_id_and_name() {
    let c = compile(&[&corr(
        "x",
        &["5638f7c0-ac70-491d-8465-2a65075e0d86", "failed_login"],
        "User",
    )]);
    assert_eq!(c.len(), 1);
    assert!(c.feeds(RuleId(10)));
    assert!(c.feeds(rule("failed_login")));
    assert!(!c.feeds(rule("successful_login")));
}

#[test]
fn cycles_and_their_users_are_refused() {
    let (c, refused) = compile_lenient(&[
        &corr("a", &["b"], "User"),
        &corr("b", &["a"], "User"),
        &corr("selfish", &["selfish"], "User"),
        &corr("user_of_a", &["a", "failed_login"], "User"),
        &corr("fine", &["failed_login"], "User"),
    ]);
    assert_eq!(c.len(), 1);
    let why: Vec<_> = refused.iter().map(|(r, m)| (r.0, m.as_str())).collect();
    assert_eq!(why.len(), 4, "{why:?}");
    assert!(
        why[0].1.contains("cycle") && why[1].1.contains("cycle") && why[2].1.contains("cycle"),
        "{why:?}"
    );
    assert_eq!(why[3].0, 103);
    assert!(why[3].1.contains("refused"), "{why:?}");
}

#[test]
fn alias_must_name_a_referenced_rule() {
    let (c, refused) = compile_lenient(&[r#"
title: t
correlation:
  type: temporal
  rules: [failed_login, successful_login]
  group-by: [ip]
  timespan: 1m
  aliases:
    ip:
      failed_login: IpAddress
      process_creation: SourceIp
"#]);
    assert!(c.is_empty());
    assert!(
        refused[0]
            .1
            .contains("aliases.ip maps \"process_creation\""),
        "{refused:?}"
    );
}

#[test]
fn chained_group_by_must_be_carried_by_the_upstream() {
    let (c, refused) = compile_lenient(&[
        &corr("up", &["failed_login"], "Computer"),
        &corr("down", &["up", "successful_login"], "User"),
    ]);
    assert_eq!(c.len(), 1);
    assert!(
        refused[0]
            .1
            .contains("field \"User\" is read from correlation \"up\""),
        "{refused:?}"
    );
    assert!(refused[0].1.contains("Computer"), "{refused:?}");
}

#[test]
fn reporting_follows_generate() {
    let quiet = compile(&[&corr("x", &["failed_login"], "User")]);
    assert!(!quiet.reported(rule("failed_login")));
    assert!(quiet.reported(rule("successful_login")));
    assert!(quiet.reported(RuleId(100)));
    let loud = compile(&[
        &corr("x", &["failed_login"], "User").replace("title: x", "title: x\ngenerate: true")
    ]);
    assert!(loud.reported(rule("failed_login")));
    // One correlation with generate is enough.
    let both = compile(&[
        &corr("x", &["failed_login"], "User"),
        &corr("y", &["failed_login"], "User").replace("title: y", "title: y\ngenerate: true"),
    ]);
    assert!(both.reported(rule("failed_login")));
}

#[test]
fn refused_correlation_is_found_by_resolver_too() {
    // The resolver may also know correlations (shared rule id space): they are still
    // treated as correlations, not as detection rules.
    let defs = vec![
        (RuleId(50), def(&corr("inner", &["failed_login"], "User"))),
        (
            RuleId(51),
            def(&corr("outer", &["inner_by_resolver"], "User")),
        ),
    ];
    let res = |r: &str| {
        if r == "inner_by_resolver" {
            Some(RuleId(50))
        } else {
            resolve(r)
        }
    };
    let (c, refused) = Compiled::build(defs, &res);
    assert!(refused.is_empty(), "{refused:?}");
    assert_eq!(c.len(), 2);
    assert!(
        !c.feeds(RuleId(50)),
        "a correlation is not a detection input"
    );
    assert!(!c.reported(RuleId(50)));
}

#[test]
fn duplicate_correlation_names_are_refused() {
    let (c, refused) = compile_lenient(&[
        &corr("same", &["failed_login"], "User"),
        &corr("same", &["successful_login"], "User"),
    ]);
    assert_eq!(c.len(), 1);
    assert_eq!(refused.len(), 1);
    assert_eq!(refused[0].0, RuleId(101));
    assert!(
        refused[0].1.contains("\"same\" already names correlation"),
        "{refused:?}"
    );
}
