//! The nom grammars against the hand-written ones they replace: the same output, or the
//! same error kind at the same offset, on every line of the corpus and on mutations of them.

use std::fmt::Debug;

use proptest::prelude::*;

use crate::attribute_parse::AttributeContext;
use crate::error::{Level, ParseErrorKind};

type Outcome = Result<String, (usize, ParseErrorKind)>;

fn offset(value: &str, at: &str) -> usize {
    let start = value.as_ptr() as usize;
    (at.as_ptr() as usize)
        .checked_sub(start)
        .filter(|&o| o <= value.len())
        .unwrap_or(value.len())
}

fn new<T: Debug>(value: &str, r: crate::fields::Res<'_, T>) -> Outcome {
    r.map(|v| format!("{v:?}"))
        .map_err(|e| (offset(value, e.at), e.kind))
}

fn old<T: Debug>(value: &str, r: super::fields::Res<'_, T>) -> Outcome {
    r.map(|v| format!("{v:?}"))
        .map_err(|e| (offset(value, e.at), e.kind))
}

type Warned<'a, T> = (T, Option<(&'a str, crate::error::WarningKind)>);

fn new_w<'a, T: Debug>(value: &'a str, r: crate::fields::Res<'a, Warned<'a, T>>) -> Outcome {
    new(
        value,
        r.map(|(v, w)| (v, w.map(|(at, k)| (offset(value, at), k)))),
    )
}

fn old_w<'a, T: Debug>(value: &'a str, r: super::fields::Res<'a, Warned<'a, T>>) -> Outcome {
    old(
        value,
        r.map(|(v, w)| (v, w.map(|(at, k)| (offset(value, at), k)))),
    )
}

/// Equal, or the old error was the generic `"field"` and the new one names the field.
fn agree(old: &Outcome, new: &Outcome) -> bool {
    use ParseErrorKind as K;
    match (old, new) {
        (Err((o1, K::MissingField { field: "field" })), Err((o2, K::MissingField { .. })))
        | (Err((o1, K::InvalidField { field: "field" })), Err((o2, K::InvalidField { .. }))) => {
            o1 == o2
        }
        _ => old == new,
    }
}

/// Checks one line (`x=value`) in both modes and, for `a=`, at both levels and RTP or not.
fn check_line(line: &str) -> Result<(), String> {
    let Some((letter, value)) = line.split_once('=') else {
        return Ok(());
    };
    for lenient in [false, true] {
        let pairs: Vec<(Outcome, Outcome)> = match letter {
            "o" => vec![(
                old_w(value, super::lines::origin(value, lenient)),
                new_w(value, crate::lines::origin(value, lenient)),
            )],
            "c" => vec![(
                old_w(value, super::lines::connection(value, lenient)),
                new_w(value, crate::lines::connection(value, lenient)),
            )],
            "b" => vec![(
                old(value, super::lines::bandwidth(value)),
                new(value, crate::lines::bandwidth(value)),
            )],
            "t" => vec![(
                old(value, super::lines::timing(value, lenient)),
                new(value, crate::lines::timing(value, lenient)),
            )],
            "r" => vec![(
                old(value, super::lines::repeat(value, lenient)),
                new(value, crate::lines::repeat(value, lenient)),
            )],
            "z" => vec![(
                old(value, super::lines::time_zones(value, lenient)),
                new(value, crate::lines::time_zones(value, lenient)),
            )],
            "m" => vec![(
                old_w(value, super::lines::media(value, 7, lenient)),
                new_w(value, crate::lines::media(value, 7, lenient)),
            )],
            "a" => attribute_pairs(value, lenient),
            _ => vec![],
        };
        for (o, n) in pairs {
            if !agree(&o, &n) {
                return Err(format!("{line:?} lenient={lenient}: old {o:?}, new {n:?}"));
            }
        }
    }
    Ok(())
}

fn attribute_pairs(text: &str, lenient: bool) -> Vec<(Outcome, Outcome)> {
    let split_old = old(text, super::attribute_parse::split_attribute(text));
    let split_new = new(text, crate::attribute_parse::split_attribute(text));
    let mut pairs = vec![(split_old, split_new)];
    let Ok((name, value)) = crate::attribute_parse::split_attribute(text) else {
        return pairs;
    };
    for level in [Level::Session, Level::Media] {
        for media_is_rtp in [false, true] {
            let ctx = AttributeContext {
                lenient,
                level,
                media_is_rtp,
                max_channels: 255,
            };
            let legacy_ctx = super::attribute_parse::AttributeContext {
                lenient,
                level,
                media_is_rtp,
                max_channels: 255,
            };
            pairs.push((
                old_w(
                    text,
                    super::attribute_parse::parse_attribute(text, name, value, legacy_ctx),
                ),
                new_w(
                    text,
                    crate::attribute_parse::parse_attribute(text, name, value, ctx),
                ),
            ));
        }
    }
    pairs
}

fn corpus_lines() -> Vec<String> {
    let root = concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared/corpus/sdp");
    let mut lines = Vec::new();
    for dir in ["valid", "invalid"] {
        let Ok(entries) = std::fs::read_dir(format!("{root}/{dir}")) else {
            continue;
        };
        for entry in entries.flatten() {
            let bytes = std::fs::read(entry.path()).unwrap_or_default();
            let text = String::from_utf8_lossy(&bytes);
            lines.extend(text.lines().map(|l| l.trim_end_matches('\r').to_owned()));
        }
    }
    lines.sort();
    lines.dedup();
    lines
}

#[test]
fn every_corpus_line_agrees() {
    let lines = corpus_lines();
    assert!(
        lines.len() > 1000,
        "corpus not found: {} lines",
        lines.len()
    );
    let failures: Vec<String> = lines.iter().filter_map(|l| check_line(l).err()).collect();
    assert!(
        failures.is_empty(),
        "{} disagree:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

fn piece() -> impl Strategy<Value = &'static str> {
    prop_oneof![
        Just(" "),
        Just("  "),
        Just("\t"),
        Just(""),
        Just("/"),
        Just(":"),
        Just(";"),
        Just(","),
        Just("="),
        Just("0"),
        Just("9"),
        Just("127"),
        Just("128"),
        Just("65536"),
        Just("x"),
        Just("é"),
        Just("*"),
        Just("~"),
        Just("-"),
        Just("IN"),
        Just("IP4"),
        Just("IP6"),
        Just("send"),
        Just("recv"),
        Just("rid="),
        Just("pt="),
        Just("d"),
        Just("h"),
        Just("urn:ietf:params:rtp-hdrext:encrypt"),
        Just("::1"),
        Just("1.2.3.4"),
        Just("AB"),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(20_000))]

    #[test]
    fn mutated_corpus_lines_agree(
        index in any::<prop::sample::Index>(),
        edits in prop::collection::vec((any::<prop::sample::Index>(), 0..3u8, piece()), 1..4),
    ) {
        static LINES: std::sync::OnceLock<Vec<String>> = std::sync::OnceLock::new();
        let lines = LINES.get_or_init(corpus_lines);
        let mut line = index.get(lines).clone();
        for (at, op, piece) in edits {
            let boundaries: Vec<usize> = (0..=line.len()).filter(|&i| line.is_char_boundary(i)).collect();
            let i = *at.get(&boundaries);
            let j = boundaries.iter().copied().find(|&j| j > i).unwrap_or(i);
            match op {
                0 => line.insert_str(i, piece),
                1 => line.replace_range(i..j, piece),
                _ => line.replace_range(i..j, ""),
            }
        }
        if let Err(e) = check_line(&line) {
            prop_assert!(false, "{}", e);
        }
    }
}
