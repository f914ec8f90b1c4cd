//! Price histories: what each price family's managers decided over the two years, and the
//! resulting weekly shelf price of each product in each pricing zone.
//!
//! A family's plan holds its regular-price decisions (cost increases, competitive responses,
//! elasticity optimisations), at most one temporary rollback (logged as 'Promotion') and its
//! short weekly promotions (temporary price reductions, not logged as price changes). A product
//! follows its family's plan; a discontinued product also gets a clearance price at the end.
//! [`price_product`] turns a plan into weekly prices per zone, the unit cost per week and the
//! list of shelf price changes that `price_changes` records store by store.

use rand::Rng;
use rand_chacha::ChaCha8Rng;

use super::calendar::WEEKS;
use super::catalog::{Family, Product, Tier, CATEGORIES, ZONES, ZONE_PRICE_FACTOR};
use super::draw::{cents, shelf_price, uniform, weighted_index};

/// Why a shelf price changed (the spellings of `price_changes.change_reason`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Reason {
    CostIncrease,
    CompetitiveResponse,
    Promotion,
    Clearance,
    ElasticityOptimization,
}

impl Reason {
    pub(crate) fn label(self) -> &'static str {
        match self {
            Self::CostIncrease => "Cost Increase",
            Self::CompetitiveResponse => "Competitive Response",
            Self::Promotion => "Promotion",
            Self::Clearance => "Clearance",
            Self::ElasticityOptimization => "Elasticity Optimization",
        }
    }
}

/// Whether the shelf shows the regular price or a temporary one.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum PriceState {
    Regular,
    Rollback,
    Clearance,
}

/// A regular-price decision for a family.
struct FamilyEvent {
    week: usize,
    reason: Reason,
    zones: [bool; 5],
    /// Relative change of the regular price (0.05 = +5%).
    price_change: f64,
    /// Relative change of the unit cost.
    cost_change: f64,
}

/// A temporary price reduction over several weeks in some zones.
struct Rollback {
    start: usize,
    /// First week back at the regular price.
    end: usize,
    zones: [bool; 5],
    discount: f64,
}

/// What happened to one price family's prices.
pub(crate) struct FamilyPlan {
    events: Vec<FamilyEvent>,
    rollback: Option<Rollback>,
    /// Promotion discount per zone and week (a weekly ad price), if any.
    promos: Vec<Vec<Option<f64>>>,
}

const ALL_ZONES: [bool; 5] = [true; 5];

/// One or two zones drawn at random.
fn some_zones(rng: &mut ChaCha8Rng) -> [bool; 5] {
    let mut zones = [false; 5];
    zones[rng.random_range(0..ZONES.len())] = true;
    if rng.random_bool(0.4) {
        zones[rng.random_range(0..ZONES.len())] = true;
    }
    zones
}

/// A week in `[low, high)` at least two weeks away from every week in `used` and outside
/// `blocked` (a half-open window widened by one week on each side); `None` if none is found.
fn free_week(
    rng: &mut ChaCha8Rng,
    low: usize,
    high: usize,
    used: &[usize],
    blocked: Option<(usize, usize)>,
) -> Option<usize> {
    for _ in 0..30 {
        let week = rng.random_range(low..high);
        let near_used = used.iter().any(|&u| u.abs_diff(week) < 2);
        let in_blocked = blocked.is_some_and(|(start, end)| week + 1 >= start && week <= end);
        if !near_used && !in_blocked {
            return Some(week);
        }
    }
    None
}

/// Draws the price decisions of one family.
pub(crate) fn plan_family(
    rng: &mut ChaCha8Rng,
    family: &Family,
    products: &[Product],
) -> FamilyPlan {
    let category = &CATEGORIES[family.category];
    let members = family.members.len().max(1) as f64;
    let elasticity = family
        .members
        .iter()
        .map(|&p| products[p].elasticity)
        .sum::<f64>()
        / members;
    let promo_factor = family
        .members
        .iter()
        .map(|&p| products[p].strategy.promo_factor())
        .sum::<f64>()
        / members;
    let store_label = family
        .members
        .first()
        .is_some_and(|&p| products[p].tier == Tier::Store);

    let rollback = rng.random_bool(0.3).then(|| {
        let start = rng.random_range(8..WEEKS - 12);
        let zones = if rng.random_bool(0.5) {
            ALL_ZONES
        } else {
            some_zones(rng)
        };
        Rollback {
            start,
            end: start + rng.random_range(4..=8),
            zones,
            discount: uniform(rng, 0.10, 0.20),
        }
    });
    let blocked = rollback.as_ref().map(|r| (r.start, r.end));

    let mut events: Vec<FamilyEvent> = Vec::new();
    let mut used: Vec<usize> = Vec::new();
    // Input costs rose mostly in 2023; suppliers pass them on, the retailer follows.
    let cost_increases = [1, 2, 3][weighted_index(rng, &[0.35, 0.45, 0.20])];
    for _ in 0..cost_increases {
        let (low, high) = if rng.random_bool(0.7) {
            (2, 52)
        } else {
            (52, WEEKS - 4)
        };
        if let Some(week) = free_week(rng, low, high, &used, blocked) {
            let price_change = uniform(rng, 0.03, 0.09);
            let cost_change = price_change * uniform(rng, 0.8, 1.2);
            used.push(week);
            events.push(FamilyEvent {
                week,
                reason: Reason::CostIncrease,
                zones: ALL_ZONES,
                price_change,
                cost_change,
            });
        }
    }
    let responses = [0, 1, 2][weighted_index(rng, &[0.45, 0.40, 0.15])];
    for _ in 0..responses {
        if let Some(week) = free_week(rng, 2, WEEKS - 4, &used, blocked) {
            let zones = some_zones(rng);
            let price_change = -uniform(rng, 0.03, 0.08);
            used.push(week);
            events.push(FamilyEvent {
                week,
                reason: Reason::CompetitiveResponse,
                zones,
                price_change,
                cost_change: 0.0,
            });
        }
    }
    // The elasticity models went live in 2024: raise prices where demand is inelastic, lower
    // them where it is highly elastic.
    if rng.random_bool(0.35) {
        if let Some(week) = free_week(rng, 56, WEEKS - 4, &used, blocked) {
            let price_change = if elasticity >= -1.0 {
                uniform(rng, 0.03, 0.07)
            } else if elasticity < -2.0 {
                -uniform(rng, 0.02, 0.05)
            } else if rng.random_bool(0.7) {
                uniform(rng, 0.01, 0.04)
            } else {
                -uniform(rng, 0.01, 0.04)
            };
            used.push(week);
            events.push(FamilyEvent {
                week,
                reason: Reason::ElasticityOptimization,
                zones: ALL_ZONES,
                price_change,
                cost_change: 0.0,
            });
        }
    }
    events.sort_by_key(|e| e.week);

    let rate = category.promo_rate * promo_factor;
    let (low, high) = if store_label {
        (0.10, 0.20)
    } else {
        (0.15, 0.30)
    };
    let promos = (0..ZONES.len())
        .map(|_| {
            let mut weeks = vec![None; WEEKS];
            let mut w = 0;
            while w < WEEKS {
                if rng.random_bool(rate) {
                    let discount = uniform(rng, low, high);
                    let length = if rng.random_bool(0.7) { 1 } else { 2 };
                    for slot in weeks.iter_mut().skip(w).take(length) {
                        *slot = Some(discount);
                    }
                    w += length + 1;
                } else {
                    w += 1;
                }
            }
            weeks
        })
        .collect();
    FamilyPlan {
        events,
        rollback,
        promos,
    }
}

/// The weekly prices of a product in one zone.
pub(crate) struct ZonePrices {
    /// Shelf price per week (regular, rollback or clearance).
    pub shelf: Vec<f64>,
    pub state: Vec<PriceState>,
    /// Reason of the latest shelf price change on or before each week.
    pub last_reason: Vec<Option<Reason>>,
    /// Weekly promotion discount, only in weeks at the regular price.
    pub promo: Vec<Option<f64>>,
    /// The zone's regular price level before any change (unrounded), the reference of demand.
    pub reference: f64,
}

/// A shelf price change in one zone.
pub(crate) struct ShelfChange {
    pub week: usize,
    pub zone: usize,
    pub old_price: f64,
    pub new_price: f64,
    pub reason: Reason,
}

/// The price history of one product.
pub(crate) struct ProductPrices {
    pub zones: Vec<ZonePrices>,
    /// Unit cost per week (dollars, rounded to cents).
    pub cost: Vec<f64>,
    pub changes: Vec<ShelfChange>,
    /// Chain regular price at the end of 2024 (the catalogue's base price).
    pub base_price: f64,
    /// Unit cost at the end of 2024.
    pub final_cost: f64,
}

/// A temporary price `discount` below `price`, at a 9-cent ending when that is still lower.
pub(crate) fn discounted(price: f64, discount: f64) -> f64 {
    let candidate = shelf_price(price * (1.0 - discount));
    if candidate < price {
        candidate
    } else {
        cents(price * (1.0 - discount))
    }
}

/// Applies a family plan (and the product's clearance) week by week in every zone.
pub(crate) fn price_product(product: &Product, plan: &FamilyPlan) -> ProductPrices {
    let clearance_week = product.clearance.map_or(WEEKS, |(week, _)| week);
    let mut cost = Vec::with_capacity(WEEKS);
    let mut cost_factor = 1.0;
    let mut chain_factor = 1.0;
    for week in 0..WEEKS {
        for event in plan
            .events
            .iter()
            .filter(|e| e.week == week && week < clearance_week)
        {
            cost_factor *= 1.0 + event.cost_change;
            if event.zones == ALL_ZONES {
                chain_factor *= 1.0 + event.price_change;
            }
        }
        cost.push(cents(product.initial_cost * cost_factor));
    }

    let mut zones = Vec::with_capacity(ZONES.len());
    let mut changes = Vec::new();
    for (zone, zone_factor) in ZONE_PRICE_FACTOR.iter().enumerate() {
        let reference = product.initial_price * zone_factor;
        let mut factor = 1.0;
        let mut prices = ZonePrices {
            shelf: Vec::with_capacity(WEEKS),
            state: Vec::with_capacity(WEEKS),
            last_reason: Vec::with_capacity(WEEKS),
            promo: Vec::with_capacity(WEEKS),
            reference,
        };
        let mut clearance_price = None;
        let mut last_reason = None;
        for week in 0..WEEKS {
            let mut reason = None;
            if week < clearance_week {
                for event in plan
                    .events
                    .iter()
                    .filter(|e| e.week == week && e.zones[zone])
                {
                    factor *= 1.0 + event.price_change;
                    reason = Some(event.reason);
                }
            }
            let regular = shelf_price(reference * factor);
            let rollback = plan.rollback.as_ref().filter(|r| r.zones[zone]);
            let (shelf, state) = match (product.clearance, rollback) {
                (Some((start, discount)), _) if week >= start => {
                    let price =
                        *clearance_price.get_or_insert_with(|| discounted(regular, discount));
                    if week == start {
                        reason = Some(Reason::Clearance);
                    }
                    (price, PriceState::Clearance)
                }
                (_, Some(r)) if (r.start..r.end).contains(&week) => {
                    if week == r.start {
                        reason = Some(Reason::Promotion);
                    }
                    (discounted(regular, r.discount), PriceState::Rollback)
                }
                (_, Some(r)) if week == r.end => {
                    reason = Some(Reason::Promotion);
                    (regular, PriceState::Regular)
                }
                _ => (regular, PriceState::Regular),
            };
            if let (Some(&old_price), Some(reason)) = (prices.shelf.last(), reason) {
                if old_price != shelf {
                    changes.push(ShelfChange {
                        week,
                        zone,
                        old_price,
                        new_price: shelf,
                        reason,
                    });
                    last_reason = Some(reason);
                }
            }
            prices.shelf.push(shelf);
            prices.state.push(state);
            prices.last_reason.push(last_reason);
            prices.promo.push(if state == PriceState::Regular {
                plan.promos[zone][week]
            } else {
                None
            });
        }
        zones.push(prices);
    }
    changes.sort_by_key(|c| (c.week, c.zone));
    ProductPrices {
        zones,
        final_cost: cost[WEEKS - 1],
        cost,
        changes,
        base_price: shelf_price(product.initial_price * chain_factor),
    }
}
