//! Join planning: the tables a question needs, joined along the foreign-key graph.
//!
//! Edges are the declared foreign keys, plus inferred ones where none is declared: a column
//! `x_id` (or `xid`) referencing the primary key of a table named `x`/`xs`, or a column with the
//! same name as another table's single-column primary key. The plan is a Steiner-ish tree: start
//! from the first required table and repeatedly attach the nearest remaining one by its shortest
//! path (Dijkstra, declared edges cheaper than inferred ones), bridge tables included.

use std::collections::{BTreeSet, BinaryHeap};

use serde::Serialize;

use super::linking::ColRef;
use crate::question::tokens::{split_identifier, stem};
use crate::warehouse::Schema;

/// One edge of the join graph: `a.a_col = b.b_col`.
#[derive(Debug, Clone, Serialize)]
pub struct Edge {
    pub a: ColRef,
    pub b: ColRef,
    /// True when read from a declared foreign key.
    pub declared: bool,
}

/// The join graph of a schema.
#[derive(Debug, Clone, Default)]
pub struct JoinGraph {
    pub edges: Vec<Edge>,
}

fn col_index(schema: &Schema, t: usize, name: &str) -> Option<usize> {
    schema.tables[t]
        .columns
        .iter()
        .position(|c| c.name.eq_ignore_ascii_case(name))
}

impl JoinGraph {
    /// Builds the graph from declared foreign keys and inferred `x_id` <-> `x.id` keys.
    pub fn build(schema: &Schema) -> JoinGraph {
        let mut edges: Vec<Edge> = Vec::new();
        let mut seen = BTreeSet::new();
        let mut add = |e: Edge, edges: &mut Vec<Edge>| {
            let key = if e.a <= e.b { (e.a, e.b) } else { (e.b, e.a) };
            if e.a.table != e.b.table && seen.insert(key) {
                edges.push(e);
            }
        };
        for (ti, t) in schema.tables.iter().enumerate() {
            for fk in &t.foreign_keys {
                let Some(tj) = schema
                    .tables
                    .iter()
                    .position(|x| x.name.eq_ignore_ascii_case(&fk.to_table))
                else {
                    continue;
                };
                let (Some(ca), Some(cb)) = (col_index(schema, ti, &fk.from_column), {
                    // an empty target column means the referenced table's primary key
                    if fk.to_column.is_empty() {
                        schema.tables[tj]
                            .primary_key
                            .first()
                            .and_then(|pk| col_index(schema, tj, pk))
                    } else {
                        col_index(schema, tj, &fk.to_column)
                    }
                }) else {
                    continue;
                };
                add(
                    Edge {
                        a: ColRef {
                            table: ti,
                            column: ca,
                        },
                        b: ColRef {
                            table: tj,
                            column: cb,
                        },
                        declared: true,
                    },
                    &mut edges,
                );
            }
        }
        // inferred keys
        for (ti, t) in schema.tables.iter().enumerate() {
            for (ci, c) in t.columns.iter().enumerate() {
                let words = split_identifier(&c.name);
                let is_key_like = words
                    .last()
                    .is_some_and(|w| matches!(w.as_str(), "id" | "code" | "key" | "no"))
                    || c.name.to_ascii_lowercase().ends_with("id");
                if !is_key_like {
                    continue;
                }
                for (tj, u) in schema.tables.iter().enumerate() {
                    if tj == ti {
                        continue;
                    }
                    let pk: Vec<usize> = u
                        .primary_key
                        .iter()
                        .filter_map(|p| col_index(schema, tj, p))
                        .collect();
                    if pk.len() != 1 {
                        continue;
                    }
                    let pkc = &u.columns[pk[0]];
                    let same_name = pkc.name.eq_ignore_ascii_case(&c.name)
                        && !t
                            .primary_key
                            .iter()
                            .any(|p| p.eq_ignore_ascii_case(&c.name) && t.primary_key.len() == 1);
                    // x_id -> x.id
                    let prefix: Vec<String> = words[..words.len().saturating_sub(1)]
                        .iter()
                        .map(|w| stem(w))
                        .collect();
                    let tname: Vec<String> =
                        split_identifier(&u.name).iter().map(|w| stem(w)).collect();
                    // `end_station_id` -> station.id: the prefix ends with the table's name
                    let named = !prefix.is_empty()
                        && prefix.len() >= tname.len()
                        && prefix[prefix.len() - tname.len()..] == tname[..]
                        && split_identifier(&pkc.name).last().map(String::as_str)
                            == words.last().map(String::as_str);
                    if same_name || named {
                        add(
                            Edge {
                                a: ColRef {
                                    table: ti,
                                    column: ci,
                                },
                                b: ColRef {
                                    table: tj,
                                    column: pk[0],
                                },
                                declared: false,
                            },
                            &mut edges,
                        );
                    }
                }
            }
        }
        JoinGraph { edges }
    }

    fn neighbours(&self, t: usize) -> impl Iterator<Item = (usize, usize, u32)> + '_ {
        self.edges.iter().enumerate().filter_map(move |(ei, e)| {
            let w = if e.declared { 10 } else { 12 };
            if e.a.table == t {
                Some((e.b.table, ei, w))
            } else if e.b.table == t {
                Some((e.a.table, ei, w))
            } else {
                None
            }
        })
    }

    /// Shortest path (edge indexes) from any table of `from` to `to`.
    fn shortest(&self, n_tables: usize, from: &BTreeSet<usize>, to: usize) -> Option<Vec<usize>> {
        let mut dist = vec![u32::MAX; n_tables];
        let mut prev: Vec<Option<(usize, usize)>> = vec![None; n_tables];
        let mut heap = BinaryHeap::new();
        for &f in from {
            dist[f] = 0;
            heap.push(std::cmp::Reverse((0u32, f)));
        }
        while let Some(std::cmp::Reverse((d, t))) = heap.pop() {
            if d > dist[t] {
                continue;
            }
            if t == to {
                break;
            }
            for (u, ei, w) in self.neighbours(t) {
                let nd = d + w;
                if nd < dist[u] {
                    dist[u] = nd;
                    prev[u] = Some((t, ei));
                    heap.push(std::cmp::Reverse((nd, u)));
                }
            }
        }
        if dist[to] == u32::MAX {
            return None;
        }
        let mut path = Vec::new();
        let mut cur = to;
        while let Some((p, ei)) = prev[cur] {
            path.push(ei);
            cur = p;
        }
        path.reverse();
        Some(path)
    }

    /// Plans the joins connecting `tables` (the first is the FROM table).
    ///
    /// Errors: the tables that cannot be reached from the first one.
    pub fn plan(&self, schema: &Schema, tables: &[usize]) -> Result<JoinPlan, Vec<usize>> {
        let Some(&first) = tables.first() else {
            return Ok(JoinPlan::default());
        };
        let mut in_tree: BTreeSet<usize> = BTreeSet::from([first]);
        let mut order = vec![first];
        let mut steps: Vec<JoinStep> = Vec::new();
        let mut remaining: Vec<usize> = tables.iter().copied().filter(|t| *t != first).collect();
        remaining.dedup();
        let mut unreachable = Vec::new();
        while !remaining.is_empty() {
            // the nearest remaining table
            let mut best: Option<(usize, Vec<usize>)> = None;
            for (ri, &t) in remaining.iter().enumerate() {
                if in_tree.contains(&t) {
                    best = Some((ri, vec![]));
                    break;
                }
                if let Some(p) = self.shortest(schema.tables.len(), &in_tree, t) {
                    if best.as_ref().is_none_or(|(_, bp)| p.len() < bp.len()) {
                        best = Some((ri, p));
                    }
                }
            }
            let Some((ri, path)) = best else {
                unreachable.append(&mut remaining);
                break;
            };
            remaining.remove(ri);
            for ei in path {
                let e = &self.edges[ei];
                let (old, new) = if in_tree.contains(&e.a.table) {
                    (e.a, e.b)
                } else {
                    (e.b, e.a)
                };
                if in_tree.contains(&new.table) {
                    continue;
                }
                in_tree.insert(new.table);
                order.push(new.table);
                steps.push(JoinStep {
                    table: new.table,
                    on: vec![(old, new)],
                    declared: e.declared,
                });
            }
        }
        if unreachable.is_empty() {
            Ok(JoinPlan {
                tables: order,
                steps,
            })
        } else {
            Err(unreachable)
        }
    }

    /// The tables table `t` refers to: those its foreign keys (declared or inferred) point at.
    pub fn referred_by(&self, t: usize) -> impl Iterator<Item = usize> + '_ {
        self.edges
            .iter()
            .filter(move |e| e.a.table == t)
            .map(|e| e.b.table)
    }

    /// The edges between two tables (`(column of a, column of b)`), declared ones first.
    pub fn between(&self, a: usize, b: usize) -> Vec<(ColRef, ColRef)> {
        let mut v: Vec<(bool, ColRef, ColRef)> = self
            .edges
            .iter()
            .filter_map(|e| {
                if e.a.table == a && e.b.table == b {
                    Some((e.declared, e.a, e.b))
                } else if e.b.table == a && e.a.table == b {
                    Some((e.declared, e.b, e.a))
                } else {
                    None
                }
            })
            .collect();
        v.sort_by_key(|x| !x.0);
        v.into_iter().map(|(_, x, y)| (x, y)).collect()
    }
}

/// One join: `JOIN table ON old = new`.
#[derive(Debug, Clone, Serialize)]
pub struct JoinStep {
    pub table: usize,
    /// (column of a table already joined, column of `table`).
    pub on: Vec<(ColRef, ColRef)>,
    pub declared: bool,
}

/// The tables of a query in join order and how each is joined.
#[derive(Debug, Clone, Default, Serialize)]
pub struct JoinPlan {
    pub tables: Vec<usize>,
    pub steps: Vec<JoinStep>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::warehouse::{ColumnSchema, ForeignKey, TableSchema};

    fn table(name: &str, cols: &[&str], pk: &str, fks: &[(&str, &str, &str)]) -> TableSchema {
        TableSchema {
            name: name.into(),
            columns: cols
                .iter()
                .map(|c| ColumnSchema {
                    name: (*c).into(),
                    data_type: "int".into(),
                    ..Default::default()
                })
                .collect(),
            primary_key: if pk.is_empty() {
                vec![]
            } else {
                vec![pk.into()]
            },
            foreign_keys: fks
                .iter()
                .map(|(f, t, c)| ForeignKey {
                    from_column: (*f).into(),
                    to_table: (*t).into(),
                    to_column: (*c).into(),
                })
                .collect(),
            row_count: 0,
        }
    }

    #[test]
    fn two_tables_joined_through_a_bridge_table() {
        let s = Schema {
            tables: vec![
                table(
                    "department",
                    &["department_id", "name"],
                    "department_id",
                    &[],
                ),
                table("head", &["head_id", "name"], "head_id", &[]),
                table(
                    "management",
                    &["department_id", "head_id"],
                    "",
                    &[
                        ("department_id", "department", "department_id"),
                        ("head_id", "head", "head_id"),
                    ],
                ),
            ],
        };
        let g = JoinGraph::build(&s);
        let plan = g.plan(&s, &[0, 1]).unwrap();
        assert_eq!(plan.tables, vec![0, 2, 1]);
        assert_eq!(plan.steps.len(), 2);
        assert_eq!(
            plan.steps[0].on[0],
            (
                ColRef {
                    table: 0,
                    column: 0
                },
                ColRef {
                    table: 2,
                    column: 0
                }
            )
        );
        assert_eq!(
            plan.steps[1].on[0],
            (
                ColRef {
                    table: 2,
                    column: 1
                },
                ColRef {
                    table: 1,
                    column: 0
                }
            )
        );
    }

    #[test]
    fn undeclared_keys_are_inferred_from_names() {
        let s = Schema {
            tables: vec![
                table("customers", &["id", "name"], "id", &[]),
                table("orders", &["id", "customer_id", "total"], "id", &[]),
            ],
        };
        let g = JoinGraph::build(&s);
        assert_eq!(g.edges.len(), 1);
        assert!(!g.edges[0].declared);
        let plan = g.plan(&s, &[1, 0]).unwrap();
        assert_eq!(
            plan.steps[0].on[0],
            (
                ColRef {
                    table: 1,
                    column: 1
                },
                ColRef {
                    table: 0,
                    column: 0
                }
            )
        );
    }

    #[test]
    fn unreachable_tables_are_reported() {
        let s = Schema {
            tables: vec![table("a", &["x"], "x", &[]), table("b", &["y"], "y", &[])],
        };
        let g = JoinGraph::build(&s);
        assert_eq!(g.plan(&s, &[0, 1]).unwrap_err(), vec![1]);
    }
}
