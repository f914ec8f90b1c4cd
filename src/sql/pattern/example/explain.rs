//! What explains a stretch where the example's question and the asked one differ: the same
//! links in other words, a number, year, value, direction, grain, column or table swapped, a
//! filter dropped or added, or words that name nothing on either side (a rewording).

use sqlparser::ast::BinaryOperator;

use super::align::{extreme_of, generic, grain_format, Side, LINK_TIE};
use super::tree::{trim_like, Tree};
use super::Edit;
use crate::knowledge::values::normalize;
use crate::knowledge::ValueIndex;
use crate::question::TokenKind;
use crate::sql::pattern::lexicon::{self, change_direction};
use crate::sql::pattern::linking::{ColRef, Target};

/// The stored spelling of the value the question's tokens of `ks` link to, with its column.
fn linked_value(side: &Side, ks: &[usize]) -> Option<(ColRef, String)> {
    let targets = side.targets(ks)?;
    match targets.as_slice() {
        [Target::Value { col, value, .. }] => Some((*col, value.clone())),
        _ => None,
    }
}

/// The value some keys of `ks` link to when every other key names nothing, a table the
/// example's SQL reads already, or the value's own column ("stores located in the North": the
/// value North; "located" a rewording, or a word of the stores' docs; "the country \"Japan\"":
/// the column named beside its value).
fn value_among_words(tree: &Tree, side: &Side, ks: &[usize]) -> Option<(ColRef, String)> {
    if ks.len() < 2 {
        return None;
    }
    let (linked, rest): (Vec<usize>, Vec<usize>) = ks.iter().partition(|&&k| {
        side.links
            .span_at(side.keys[k].tok)
            .is_some_and(|sp| matches!(sp.best().target, Target::Value { .. }))
    });
    if linked.is_empty() {
        return None;
    }
    let (col, value) = linked_value(side, &linked)?;
    let known = |k: usize| {
        generic(side, &[k])
            || side
                .links
                .span_at(side.keys[k].tok)
                .is_some_and(|sp| match sp.best().target {
                    Target::Table { table } => tree.uses_table(table),
                    Target::Column { col: c } => c == col,
                    _ => false,
                })
    };
    rest.iter().all(|&k| known(k)).then_some((col, value))
}

/// The one column or table the tokens of `ks` link to.
fn linked_schema_item(side: &Side, ks: &[usize]) -> Option<Target> {
    let targets = side.targets(ks)?;
    let items: Vec<&Target> = targets
        .iter()
        .filter(|t| !matches!(t, Target::Value { .. }))
        .collect();
    match items.as_slice() {
        [t] if targets.len() == 1 => Some((*t).clone()),
        _ => None,
    }
}

/// Explains one differing stretch pair by edits of `tree`; `None` when it cannot.
pub(super) fn explain(
    tree: &mut Tree,
    ex: &Side,
    q: &Side,
    es: &[usize],
    qs: &[usize],
    values: &ValueIndex,
) -> Option<Vec<Edit>> {
    // the same meaning in other words: both sides link to the same tables and columns (a
    // table the example names beside one of its columns adds nothing: "products with a unit
    // cost" and "items cost"; a tie between curated synonyms goes the example's way)
    if !es.is_empty() && !qs.is_empty() {
        if let Some(te) = ex.targets(es) {
            if let Some(tq) = q.targets_preferring(qs, &te) {
                let te_named = without_implied_tables(&te);
                let same = te_named.len() == tq.len() && tq.iter().all(|t| te_named.contains(t));
                if same
                    && !te.iter().any(|t| matches!(t, Target::Value { .. }))
                    && !modifies_unsaid(ex, es, q)
                    && !modifies_unsaid(q, qs, ex)
                {
                    return Some(Vec::new());
                }
            }
        }
    }
    if said_of_the_query(tree, (ex, es), (q, qs)) {
        return Some(Vec::new());
    }
    if shows_rows_by(tree, (ex, es), (q, qs)) || shows_rows_by(tree, (q, qs), (ex, es)) {
        return Some(Vec::new());
    }
    if names_tables_read(tree, (ex, es), (q, qs)) || names_tables_read(tree, (q, qs), (ex, es)) {
        return Some(Vec::new());
    }
    let explained = explain_edits(tree, ex, q, es, qs, values);
    if explained.is_some() {
        return explained;
    }
    // words that name nothing on either side: another wording of the same question, unless
    // words one side adds qualify the schema's word right after them ("basket size" is not
    // "size")
    let qualifies = |side: &Side, ks: &[usize]| {
        ks.last().is_some_and(|&k| {
            side.keys.get(k + 1).is_some_and(|next| {
                next.tok == side.keys[k].tok + 1 && side.links.span_at(next.tok).is_some()
            })
        })
    };
    if (es.is_empty() && qualifies(q, qs)) || (qs.is_empty() && qualifies(ex, es)) {
        return None;
    }
    // a qualifier of the rows is no rewording ("stores *are closed*" / "stores *do we have*")
    if qualifies_rows(q, qs, ex) || qualifies_rows(ex, es, q) {
        return None;
    }
    // a rise is no rewording of a fall ("increases" / "cuts")
    let directions = |text: String| -> Vec<bool> {
        text.split(|c: char| !c.is_alphanumeric())
            .filter_map(change_direction)
            .collect()
    };
    let (ed, qd) = (directions(ex.text(es)), directions(q.text(qs)));
    if ed.iter().any(|d| qd.contains(&!d)) {
        return None;
    }
    (generic(ex, es) && generic(q, qs)).then(|| {
        vec![Edit::Reworded {
            old: ex.text(es),
            new: q.text(qs),
        }]
    })
}

/// Whether the only words one side says and the other does not ask for what the example's
/// query does anyway: "for each" of a grouped query or of rows listed with no aggregate, "distinct" / "different" of rows that are
/// distinct (`DISTINCT`, `GROUP BY`), and the question's "how many different" of a query that
/// counts distinct values. The example's "how many different" is no such word: the question
/// without it may count every row.
fn said_of_the_query(tree: &Tree, (ex, es): (&Side, &[usize]), (q, qs): (&Side, &[usize])) -> bool {
    let (side, ks, asked) = match (es.is_empty(), qs.is_empty()) {
        (false, true) => (ex, es, false),
        (true, false) => (q, qs, true),
        _ => return false,
    };
    ks.iter().all(|&k| match side.keys[k].key.as_str() {
        "#each" => tree.grouped() || !tree.aggregates(),
        "#distinct" if k > 0 && side.keys[k - 1].key == "#count" => asked && tree.counts_distinct(),
        "#distinct" => tree.rows_distinct(),
        _ => false,
    })
}

/// Whether two values may stand in one column: the value index stores them in a column in
/// common, or does not know one of them. A value stored only in other columns than the
/// example's is no swap ("the product 'sesame'" / "the characteristic 'hot'").
fn stored_alike(values: &ValueIndex, old: &str, new: &str) -> bool {
    let columns = |v: &str| -> Vec<(String, String)> {
        values
            .lookup_same(v)
            .into_iter()
            .map(|m| (m.table.to_lowercase(), m.column.to_lowercase()))
            .collect()
    };
    let (o, n) = (columns(old), columns(new));
    o.is_empty() || n.is_empty() || o.iter().any(|c| n.contains(c))
}

/// Whether `side`'s words `ks` name the one column the query shows of a table that `other`
/// names bare, with none of its columns, and `other` says nothing there ("the ids of the
/// courses" / "the courses"; "the papers" / "the titles of the papers"): the example's choice of
/// what shows the table's rows stands.
fn shows_rows_by(
    tree: &Tree,
    (side, ks): (&Side, &[usize]),
    (other, oks): (&Side, &[usize]),
) -> bool {
    if ks.is_empty() || !oks.is_empty() {
        return false;
    }
    let Some(Target::Column { col }) = linked_schema_item(side, ks) else {
        return false;
    };
    let names_table = other
        .links
        .spans
        .iter()
        .any(|sp| matches!(sp.best().target, Target::Table { table } if table == col.table));
    let names_a_column =
        other.links.spans.iter().any(
            |sp| matches!(sp.best().target, Target::Column { col: c } if c.table == col.table),
        );
    names_table && !names_a_column && tree.selects_column(col)
}

/// Whether the only words one side says and the other does not (`ks`, the other's stretch
/// `others` empty) name again tables or columns the example's query reads and the other side
/// names too, perhaps after "each" over the rows it lists ("the type codes and descriptions *of
/// each budget type*" / "all budget type codes and descriptions"; "the *document* type name" /
/// "the type name ... of each document"): saying again what the query reads changes nothing. Not when a table word qualifies a column of another table right
/// after it ("the *customer* phone" where the query shows the staff's phone), nor "each" over an
/// ungrouped count (a breakdown the query does not make).
fn names_tables_read(
    tree: &Tree,
    (side, ks): (&Side, &[usize]),
    (other, others): (&Side, &[usize]),
) -> bool {
    if ks.is_empty() || !others.is_empty() {
        return false;
    }
    let mut tables = 0;
    for &k in ks {
        let key = &side.keys[k];
        if key.key == "#each" {
            // "each" over the rows a query lists, not a breakdown
            if tree.aggregates() || tree.grouped() {
                return false;
            }
            continue;
        }
        // what an operation counts, sums or ranks is no word said again ("how many video
        // game types" / "the types and the number of *video games* in each")
        if k > 0 && side.keys[k - 1].key.starts_with('#') && side.keys[k - 1].key != "#each" {
            return false;
        }
        let Some(span) = side.links.span_at(key.tok) else {
            return false;
        };
        // a link of the other side's, its best or tied with it
        let said_by_other = |named: &dyn Fn(&Target) -> bool| {
            other.links.spans.iter().any(|sp| {
                sp.links
                    .iter()
                    .any(|l| l.score >= sp.best().score - LINK_TIE && named(&l.target))
            })
        };
        match span.best().target {
            // a column the query reads, which the other side names too, after "each" over the
            // rows listed ("the type codes ... *of each budget type*" / "budget type codes")
            Target::Column { col } => {
                if side.keys[ks[0]].key != "#each"
                    || !tree.uses_column(col)
                    || !said_by_other(&|t| matches!(t, Target::Column { col: c } if *c == col))
                {
                    return false;
                }
            }
            Target::Table { table } => {
                // the table's whole name said on one side only ("party events" is no "party")
                let whole = side
                    .keys
                    .iter()
                    .enumerate()
                    .filter(|(_, x)| (span.start..span.end).contains(&x.tok))
                    .all(|(i, _)| ks.contains(&i));
                let qualifies_other = side.links.span_at(span.end).is_some_and(
                    |sp| matches!(sp.best().target, Target::Column { col } if col.table != table),
                );
                // the table named as what a column belongs to ("the *document* type name"), or
                // after "each" over the rows listed: never the rows listed themselves ("List
                // *the stores* in the West zone" is no "only in the West zone")
                let of_its_column = side.links.span_at(span.end).is_some_and(
                    |sp| matches!(sp.best().target, Target::Column { col } if col.table == table),
                );
                let after_each = side.keys[ks[0]].key == "#each";
                // the other side names the table too, or one of its columns: the table is no
                // new subject ("the name of the county" is no "the names of the cities in the
                // county")
                let named = other.links.spans.iter().any(|sp| match sp.best().target {
                    Target::Table { table: x } => x == table,
                    Target::Column { col } => col.table == table,
                    _ => false,
                });
                if !whole
                    || !tree.uses_table(table)
                    || qualifies_other
                    || !named
                    || !(of_its_column || after_each)
                {
                    return false;
                }
            }
            _ => return false,
        }
        tables += 1;
    }
    tables > 0
}

/// A quoted value the example's SQL holds in parts, a literal for each word ("Aaron Turon":
/// `fname = 'Aaron' AND lname = 'Turon'`), swapped word for word with the question's quoted value
/// of as many words ("Jeremy Gibbons"). `None` (the tree untouched) when a part is not one
/// literal of its own.
fn swap_value_parts(
    tree: &mut Tree,
    ex: &Side,
    q: &Side,
    es: &[usize],
    qs: &[usize],
) -> Option<Vec<Edit>> {
    let quoted = |side: &Side, ks: &[usize]| match ks {
        [k] => {
            let tok = &side.a.tokens[side.keys[*k].tok];
            (tok.kind == TokenKind::Quoted).then(|| tok.text.clone())
        }
        _ => None,
    };
    let (old, new) = (quoted(ex, es)?, quoted(q, qs)?);
    let old_parts: Vec<&str> = old.split_whitespace().collect();
    let new_parts: Vec<&str> = new.split_whitespace().collect();
    if old_parts.len() < 2 || old_parts.len() != new_parts.len() {
        return None;
    }
    let strings = tree.strings();
    let literals: Vec<String> = old_parts
        .iter()
        .map(|p| tree.string_named(p))
        .collect::<Option<_>>()?;
    let once = |lit: &String| strings.iter().filter(|s| *s == lit).count() == 1;
    // each part its own literal, and no new part another part's old one (swapped in turn)
    let clash = new_parts.iter().enumerate().any(|(i, n)| {
        old_parts
            .iter()
            .enumerate()
            .any(|(j, o)| i != j && normalize(n) == normalize(o))
    });
    if !literals.iter().all(once) || clash {
        return None;
    }
    for (lit, part) in literals.iter().zip(&new_parts) {
        if !tree.replace_strings(lit, part) {
            return None;
        }
    }
    Some(vec![Edit::Value { old, new }])
}

/// Whether a word of `side`'s stretch `ks` that names nothing modifies the linked word right
/// after it ("*return* rate", where "rate" alone links the margin rate) and `other`'s question
/// does not say it: the two name other things, though their links agree.
fn modifies_unsaid(side: &Side, ks: &[usize], other: &Side) -> bool {
    ks.iter().any(|&k| {
        let i = side.keys[k].tok;
        let stem = &side.a.tokens[i].stem;
        generic(side, &[k])
            && side.links.span_at(i + 1).is_some()
            && !other.a.tokens.iter().any(|t| &t.stem == stem)
    })
}

/// Whether a word of `side`'s stretch `ks` qualifies the rows ([`lexicon::qualifies_rows`]:
/// "How many stores are *closed*?"), names nothing (else it is no rewording anyway), and
/// `other`'s question does not say it.
fn qualifies_rows(side: &Side, ks: &[usize], other: &Side) -> bool {
    let words: Vec<&str> = side.a.tokens.iter().map(|t| t.lower.as_str()).collect();
    ks.iter().any(|&k| {
        let i = side.keys[k].tok;
        let stem = &side.a.tokens[i].stem;
        lexicon::qualifies_rows(&words, i)
            && generic(side, &[k])
            && !other.a.tokens.iter().any(|t| &t.stem == stem)
    })
}

/// Whether `side` asks for one thing by a superlative: the last word of the words after its
/// `most` / `least` key, up to a preposition or the end, is singular ("the biggest price
/// increase", not "the biggest price increases").
fn ranks_one(side: &Side) -> bool {
    let Some(sup) = side
        .keys
        .iter()
        .find(|k| k.key.starts_with("#most") || k.key.starts_with("#least"))
    else {
        return false;
    };
    let toks = &side.a.tokens;
    let mut head = None;
    for t in toks.iter().skip(sup.tok + 1) {
        if t.kind != crate::question::tokens::TokenKind::Word
            || matches!(
                t.lower.as_str(),
                "of" | "in"
                    | "for"
                    | "by"
                    | "with"
                    | "from"
                    | "at"
                    | "on"
                    | "and"
                    | "or"
                    | "that"
                    | "which"
                    | "who"
                    | "per"
            )
        {
            break;
        }
        head = Some(t.lower.as_str());
    }
    head.is_some_and(|h| !h.ends_with('s') || h.ends_with("ss"))
}

/// `targets` without the tables one of its columns belongs to.
fn without_implied_tables(targets: &[Target]) -> Vec<Target> {
    let has_column_of = |t: usize| {
        targets
            .iter()
            .any(|x| matches!(x, Target::Column { col } if col.table == t))
    };
    targets
        .iter()
        .filter(|t| !matches!(t, Target::Table { table } if has_column_of(*table)))
        .cloned()
        .collect()
}

fn explain_edits(
    tree: &mut Tree,
    ex: &Side,
    q: &Side,
    es: &[usize],
    qs: &[usize],
    values: &ValueIndex,
) -> Option<Vec<Edit>> {
    match (es.is_empty(), qs.is_empty()) {
        (false, false) => {
            if let Some(e) = substitute(tree, ex, q, es, qs, values) {
                return Some(e);
            }
            // stretches of equal length: word for word
            if es.len() == qs.len() && es.len() > 1 {
                let mut edits = Vec::new();
                for (e1, q1) in es.iter().zip(qs) {
                    edits.extend(explain(tree, ex, q, &[*e1], &[*q1], values)?);
                }
                return Some(edits);
            }
            None
        }
        (false, true) => {
            // the example's top N, and the question asks for the one ("the biggest price
            // increase" for "the 10 biggest price increases"): a limit of 1
            if let [k] = es {
                if let Some((ev, et)) = ex.number(*k) {
                    let once = tree.numbers().iter().filter(|n| **n == ev).count() == 1;
                    if once
                        && ex.a.top_n == Some(ev as u64)
                        && ranks_one(q)
                        && !ranks_one(ex)
                        && tree.replace_numbers(ev, "1")
                    {
                        return Some(vec![Edit::Number {
                            old: et,
                            new: "1".into(),
                        }]);
                    }
                }
            }
            // the example names a value the question does not: drop its filter
            let text = ex.text(es);
            let lit = tree
                .string_named(&text)
                .or_else(|| linked_value(ex, es).and_then(|(_, v)| tree.string_named(&v)))?;
            tree.drop_filter(&lit)
                .then(|| vec![Edit::DropFilter { value: lit }])
        }
        (true, false) => {
            // the question names a period the example does not: restrict the example's rows
            if let Some(edits) = super::period::add_period(tree, ex, q, qs) {
                return Some(edits);
            }
            // the question names a stored value the example does not: add a filter
            let (col, value) = linked_value(q, qs)?;
            tree.add_filter(col, &value).then(|| {
                vec![Edit::AddFilter {
                    column: format!(
                        "{}.{}",
                        tree.schema.tables[col.table].name,
                        tree.schema.tables[col.table].columns[col.column].name
                    ),
                    value,
                }]
            })
        }
        (true, true) => Some(Vec::new()),
    }
}

/// The SQL operator of a comparison key of [`super::align::keys`] (`#cmp:ge`: `>=`).
fn comparison_operator(key: &str) -> Option<BinaryOperator> {
    Some(match key.strip_prefix("#cmp:")? {
        "gt" => BinaryOperator::Gt,
        "ge" => BinaryOperator::GtEq,
        "lt" => BinaryOperator::Lt,
        "le" => BinaryOperator::LtEq,
        _ => return None,
    })
}

fn substitute(
    tree: &mut Tree,
    ex: &Side,
    q: &Side,
    es: &[usize],
    qs: &[usize],
    values: &ValueIndex,
) -> Option<Vec<Edit>> {
    // a number
    if es.len() == 1 && qs.len() == 1 {
        if let (Some((ev, et)), Some((qv, qt))) = (ex.number(es[0]), q.number(qs[0])) {
            let year = |v: f64| v.fract() == 0.0 && (1800.0..=2100.0).contains(&v);
            if year(ev) && year(qv) && tree.shift_years(ev as i64, qv as i64) {
                return Some(vec![Edit::Year {
                    old: ev as i64,
                    new: qv as i64,
                }]);
            }
            // "above 70%" written as a fraction ("cost > 0.7 * base_price")
            let percent = |side: &Side, k: usize| {
                side.a
                    .tokens
                    .get(side.keys[k].tok + 1)
                    .is_some_and(|t| t.text == "%" || t.lower == "percent")
            };
            if !tree.numbers().contains(&ev)
                && percent(ex, es[0])
                && percent(q, qs[0])
                && tree.numbers().contains(&(ev / 100.0))
            {
                let new = super::reading::number_text(qv / 100.0);
                return tree.replace_numbers(ev / 100.0, &new).then(|| {
                    vec![Edit::Number {
                        old: format!("{et}%"),
                        new: format!("{qt}%"),
                    }]
                });
            }
            if !tree.numbers().contains(&ev) && tree.string_named(&et).is_none() {
                return None;
            }
            let new = if qv.fract() == 0.0 {
                format!("{}", qv as i64)
            } else {
                qt.clone()
            };
            return tree
                .replace_numbers(ev, &new)
                .then(|| vec![Edit::Number { old: et, new }]);
        }
    }
    // a comparison with a number: "more than 40" / "at least 40"
    if let ([e], [q1]) = (es, qs) {
        if let (Some(old), Some(new)) = (
            comparison_operator(&ex.keys[*e].key),
            comparison_operator(&q.keys[*q1].key),
        ) {
            return tree.replace_comparison(&old, &new).then(|| {
                vec![Edit::Comparison {
                    old: old.to_string(),
                    new: new.to_string(),
                }]
            });
        }
    }
    // a value
    let etext = ex.text(es);
    if let Some(lit) = tree
        .string_named(&etext)
        .or_else(|| linked_value(ex, es).and_then(|(_, v)| tree.string_named(&v)))
    {
        let new = match linked_value(q, qs).or_else(|| value_among_words(tree, q, qs)) {
            Some((_, v)) => v,
            // a quoted value among other words is no value of its own ("the city \"Paris\"" when
            // the example compares the country)
            None if qs.len() > 1
                && qs
                    .iter()
                    .any(|&k| q.a.tokens[q.keys[k].tok].kind == TokenKind::Quoted) =>
            {
                return None
            }
            // words that name a column or a table are no value ("per category" where the
            // example filters one category: a breakdown, not a category called 'category')
            None if linked_schema_item(q, qs).is_some() => return None,
            None => {
                let raw = q.text(qs);
                values
                    .lookup(&raw)
                    .into_iter()
                    .find(|m| m.exact || m.score >= 0.95)
                    .map(|m| m.value)
                    .unwrap_or(raw)
            }
        };
        if new.is_empty() {
            return None;
        }
        if !stored_alike(values, trim_like(&lit), &new) {
            return None;
        }
        if normalize(&new) == normalize(trim_like(&lit)) {
            // the same value, written another way (quoted in one question only)
            return Some(Vec::new());
        }
        return tree.replace_strings(&lit, &new).then(|| {
            vec![Edit::Value {
                old: trim_like(&lit).to_string(),
                new,
            }]
        });
    }
    // a name written in parts ("Aaron Turon": a first and a last name)
    if let Some(edits) = swap_value_parts(tree, ex, q, es, qs) {
        return Some(edits);
    }
    // most / least
    let flip = match (es, qs) {
        ([e], [q1]) => match (extreme_of(&ex.keys[*e].key), extreme_of(&q.keys[*q1].key)) {
            // opposite ends of one scale ("longest" / "shortest", "most" / "least")
            (Some((em, es)), Some((qm, qs))) => em != qm && es == qs,
            _ => false,
        },
        _ => false,
    };
    if flip {
        let (old, new) = (ex.text(es), q.text(qs));
        return tree
            .flip_direction()
            .then_some(vec![Edit::Direction { old, new }]);
    }
    // a period grain ("per year" / "per month"), not a word of a period ("this year")
    let of_a_period =
        |side: &Side, ks: &[usize]| ks.iter().any(|&k| side.keys[k].key.starts_with('@'));
    if es.len() == 1 && qs.len() == 1 && !of_a_period(ex, es) && !of_a_period(q, qs) {
        let ew = &ex.a.tokens[ex.keys[es[0]].tok].lower;
        let qw = &q.a.tokens[q.keys[qs[0]].tok].lower;
        if let (Some(ef), Some(qf)) = (grain_format(ew), grain_format(qw)) {
            if ef == qf {
                return Some(Vec::new());
            }
            return tree.replace_grain(qf).map(|_| {
                vec![Edit::Grain {
                    old: ew.clone(),
                    new: qw.clone(),
                }]
            });
        }
    }
    // opposite named conditions on one column ("price increases" / "price cuts")
    if let Some(edits) = super::opposite::explain_opposite(tree, ex, q, es, qs) {
        return Some(edits);
    }
    // a column or a table
    match (linked_schema_item(ex, es)?, linked_schema_item(q, qs)?) {
        (Target::Column { col: a }, Target::Column { col: b }) if a != b => {
            let names = (
                format!("{}.{}", tree.schema.tables[a.table].name, tree.col_name(a)),
                format!("{}.{}", tree.schema.tables[b.table].name, tree.col_name(b)),
            );
            tree.replace_column(a, b).then(|| {
                vec![Edit::Column {
                    old: names.0,
                    new: names.1,
                }]
            })
        }
        (Target::Table { table: a }, Target::Table { table: b }) if a != b => {
            let names = (
                tree.schema.tables[a].name.clone(),
                tree.schema.tables[b].name.clone(),
            );
            tree.replace_table(a, b).then(|| {
                vec![Edit::Table {
                    old: names.0,
                    new: names.1,
                }]
            })
        }
        _ => None,
    }
}
