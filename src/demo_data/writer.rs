//! Draws the rows of every table and inserts them into an open SQLite connection.
//!
//! The demand model lives here: weekly units of a product in a store are a Poisson draw around
//! `base units x popularity x store traffic x regional taste x season x holiday x trend
//! x (price / reference price)^elasticity x promotion lift x noise`, so the structure an analyst
//! looks for (seasonality, promotion lift, price response by elasticity) is in the data by
//! construction. Monthly margins are aggregated from the same weekly rows.
//!
//! Every random draw comes from a ChaCha8 stream of the fixed seed, one stream per concern
//! (catalogue, stores, assortment, each family's plan, each product's rows), and every loop runs
//! over vectors in a fixed order, so the same scale always yields the same rows.

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rusqlite::{params, Connection, Transaction};

use super::calendar::{Calendar, WEEKS};
use super::catalog::{
    build_assortment, build_products, build_stores, Product, Store, Tier, CATEGORIES, ZONES,
    ZONE_PRICE_FACTOR,
};
use super::draw::{cents, lognormal, poisson, shelf_price};
use super::prices::{discounted, plan_family, price_product, PriceState, ProductPrices, Reason};
use super::SEED;

/// Demand multiplier of a promoted week (ad feature and display), on top of the price effect.
const PROMOTION_LIFT: f64 = 1.25;
/// Chance that a weekly sales row records a mis-keyed price (ten times or a tenth of the real one).
const SALES_PRICE_ERROR_RATE: f64 = 1.0 / 25_000.0;
/// Chance that a pricing snapshot carries a mis-keyed current price.
const PRICING_ERROR_RATE: f64 = 1.0 / 5_000.0;
/// Chance that a competitor observation is mis-scraped.
const COMPETITOR_ERROR_RATE: f64 = 1.0 / 3_000.0;

/// Competitors: name, price level relative to our reference price, share of products tracked
/// (national brands; our own label is compared mostly with the discounters).
const COMPETITORS: [(&str, f64, f64, f64); 5] = [
    ("Walmart", 0.95, 0.95, 0.90),
    ("Target", 1.03, 0.55, 0.35),
    ("Kroger", 1.00, 0.65, 0.50),
    ("Costco", 0.90, 0.25, 0.30),
    ("Aldi", 0.86, 0.30, 0.75),
];
/// Competitor prices drift up by this share per year.
const COMPETITOR_INFLATION: f64 = 0.035;

/// Category managers by department (category_level_1); they approve cost and promotion changes.
const CATEGORY_MANAGERS: [(&str, &str); 4] = [
    ("Frozen", "Dana Whitfield"),
    ("Grocery", "Marcus Chen"),
    ("Fresh", "Priya Raman"),
    ("Dairy", "Tom Okafor"),
];
/// Zone pricing managers, in [`ZONES`] order; they approve competitive responses.
const ZONE_MANAGERS: [&str; 5] = [
    "Erik Lindqvist",
    "Maria Gonzalez",
    "Rachel Goldberg",
    "Kevin Tanaka",
    "Luis Ortega",
];

/// Stream ids: one per concern, products and families offset so they never collide.
const STREAM_CATALOG: u64 = 1;
const STREAM_STORES: u64 = 2;
const STREAM_ASSORTMENT: u64 = 3;
const STREAM_FAMILIES: u64 = 1_000_000;
const STREAM_PRODUCTS: u64 = 2_000_000;

/// The random stream `stream` of the fixed seed.
fn rng(stream: u64) -> ChaCha8Rng {
    let mut rng = ChaCha8Rng::seed_from_u64(SEED);
    rng.set_stream(stream);
    rng
}

/// Row counts of a written database.
pub(crate) struct Counts {
    pub products: u64,
    pub stores: u64,
    pub sales_rows: u64,
}

/// The elasticity class of a value: the thresholds of the contract.
pub(crate) fn elasticity_category(value: f64) -> &'static str {
    if value < -2.0 {
        "Highly Elastic"
    } else if value < -1.0 {
        "Elastic"
    } else {
        "Inelastic"
    }
}

/// Who signs off a price change.
fn approver(reason: Reason, product: &Product, zone: usize) -> &'static str {
    let level1 = CATEGORIES[product.category].level1;
    let manager = CATEGORY_MANAGERS
        .iter()
        .find(|(d, _)| *d == level1)
        .map_or("Pricing Committee", |(_, m)| m);
    match reason {
        Reason::CostIncrease | Reason::Promotion => manager,
        Reason::CompetitiveResponse => ZONE_MANAGERS[zone],
        Reason::ElasticityOptimization => "Pricing Analytics",
        Reason::Clearance => "Merchandising Committee",
    }
}

/// Seasonal and holiday demand multiplier of each category in each week.
fn season_table(calendar: &Calendar) -> Vec<Vec<f64>> {
    CATEGORIES
        .iter()
        .map(|category| {
            (0..WEEKS)
                .map(|week| {
                    let phase = std::f64::consts::TAU
                        * (calendar.week_mid_day[week] - category.season_peak_day)
                        / 365.25;
                    let holiday = calendar.week_holiday[week]
                        .map_or(1.0, |h| category.holiday_lifts[h.index()]);
                    (1.0 + category.season_amplitude * phase.cos()) * holiday
                })
                .collect()
        })
        .collect()
}

/// Writes all eight tables for `scale` (stores = 40 x scale) in one transaction.
pub(crate) fn write_all(conn: &mut Connection, scale: usize) -> rusqlite::Result<Counts> {
    let calendar = Calendar::new();
    let (products, families) = build_products(&mut rng(STREAM_CATALOG), &calendar);
    let stores = build_stores(&mut rng(STREAM_STORES), scale);
    let carriers = build_assortment(&mut rng(STREAM_ASSORTMENT), &products, &stores);
    let plans: Vec<_> = families
        .iter()
        .enumerate()
        .map(|(i, family)| plan_family(&mut rng(STREAM_FAMILIES + i as u64), family, &products))
        .collect();
    let prices: Vec<ProductPrices> = products
        .iter()
        .map(|p| price_product(p, &plans[p.family]))
        .collect();
    let seasons = season_table(&calendar);

    let tx = conn.transaction()?;
    {
        let mut insert = tx.prepare(
            "INSERT INTO products (upc_code, product_name, brand, category_level_1, category_level_2, \
             category_level_3, package_size, unit_of_measure, cost, base_price, price_family, created_date) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)",
        )?;
        for (product, price) in products.iter().zip(&prices) {
            let category = &CATEGORIES[product.category];
            insert.execute(params![
                product.upc,
                product.name,
                product.brand,
                category.level1,
                category.level2,
                product.level3,
                product.package_size,
                product.unit,
                price.final_cost,
                price.base_price,
                families[product.family].name,
                product.created.format("%Y-%m-%d").to_string(),
            ])?;
        }
        let mut insert = tx.prepare(
            "INSERT INTO stores (store_id, store_name, zone, region, city, state, store_format, square_feet, open_date) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
        )?;
        for store in &stores {
            insert.execute(params![
                store.id,
                store.name,
                ZONES[store.zone],
                store.region,
                store.city,
                store.state,
                store.format.label(),
                store.square_feet,
                store.open_date.format("%Y-%m-%d").to_string(),
            ])?;
        }
    }
    let mut sales_rows = 0;
    {
        let mut rows = RowWriter::new(&tx, &calendar)?;
        for (index, product) in products.iter().enumerate() {
            let mut rng = rng(STREAM_PRODUCTS + index as u64);
            let context = ProductContext {
                product,
                prices: &prices[index],
                family: &families[product.family].name,
                seasons: &seasons[product.category],
                launch_week: calendar.first_week_from(product.created),
            };
            rows.elasticity(&context)?;
            rows.competitors(&mut rng, &context)?;
            for &store in &carriers[index] {
                let store = &stores[store];
                let start = context
                    .launch_week
                    .max(calendar.first_week_from(store.open_date));
                rows.pricing(&mut rng, &context, store, start)?;
                sales_rows += rows.sales_and_margins(&mut rng, &context, store, start)?;
            }
            rows.price_changes(&context, &stores, &carriers[index])?;
        }
    }
    tx.commit()?;
    Ok(Counts {
        products: products.len() as u64,
        stores: stores.len() as u64,
        sales_rows,
    })
}

/// What the row writers need to know about one product.
struct ProductContext<'a> {
    product: &'a Product,
    prices: &'a ProductPrices,
    family: &'a str,
    /// Seasonal multiplier of the product's category per week.
    seasons: &'a [f64],
    /// First week the product is on sale.
    launch_week: usize,
}

impl ProductContext<'_> {
    /// Expected weekly units in `store` at `price`, before season, trend and noise.
    fn baseline_units(&self, store: &Store, price: f64) -> f64 {
        let category = &CATEGORIES[self.product.category];
        let reference = self.prices.zones[store.zone].reference;
        category.base_units
            * self.product.popularity
            * store.traffic
            * category.zone_affinity[store.zone]
            * (price / reference).powf(self.product.elasticity)
    }
}

/// Prepared statements of the per-product tables.
struct RowWriter<'t> {
    calendar: &'t Calendar,
    elasticity: rusqlite::Statement<'t>,
    competitive: rusqlite::Statement<'t>,
    pricing: rusqlite::Statement<'t>,
    sales: rusqlite::Statement<'t>,
    margin: rusqlite::Statement<'t>,
    changes: rusqlite::Statement<'t>,
}

impl<'t> RowWriter<'t> {
    fn new(tx: &'t Transaction<'_>, calendar: &'t Calendar) -> rusqlite::Result<Self> {
        Ok(Self {
            calendar,
            elasticity: tx.prepare(
                "INSERT INTO elasticity (upc_code, category_level_2, elasticity_value, elasticity_category, \
                 confidence_level, last_updated) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            )?,
            competitive: tx.prepare(
                "INSERT INTO competitive_pricing (upc_code, competitor_name, competitor_price, our_price, price_gap, \
                 price_index, observation_date, zone) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
            )?,
            pricing: tx.prepare(
                "INSERT INTO pricing (upc_code, store_id, price_date, current_price, suggested_price, price_family, \
                 pricing_strategy, price_change_reason, units_impact, revenue_impact) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
            )?,
            sales: tx.prepare(
                "INSERT INTO sales_data (upc_code, store_id, sale_date, units_sold, revenue, avg_selling_price, \
                 promotion_flag) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
            )?,
            margin: tx.prepare(
                "INSERT INTO margin_analysis (upc_code, store_id, period, revenue, cost_of_goods, gross_margin, \
                 margin_percent) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
            )?,
            changes: tx.prepare(
                "INSERT INTO price_changes (upc_code, store_id, change_date, old_price, new_price, change_percent, \
                 change_reason, approved_by) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
            )?,
        })
    }

    /// One elasticity row: the value demand follows, its class, a confidence and a model date.
    fn elasticity(&mut self, ctx: &ProductContext<'_>) -> rusqlite::Result<()> {
        let p = ctx.product;
        self.elasticity.execute(params![
            p.upc,
            CATEGORIES[p.category].level2,
            p.elasticity,
            elasticity_category(p.elasticity),
            p.elasticity_confidence,
            p.elasticity_updated.format("%Y-%m-%d").to_string(),
        ])?;
        Ok(())
    }

    /// Monthly competitor observations, each in one zone, for the competitors tracking the product.
    fn competitors(
        &mut self,
        rng: &mut ChaCha8Rng,
        ctx: &ProductContext<'_>,
    ) -> rusqlite::Result<()> {
        let p = ctx.product;
        let own_label = p.tier == Tier::Store;
        let tracked: Vec<(usize, f64)> = COMPETITORS
            .iter()
            .enumerate()
            .map(|(i, &(_, _, national_share, own_label_share))| {
                let share = if own_label {
                    own_label_share
                } else {
                    national_share
                };
                (rng.random_bool(share) || i == 0, lognormal(rng, 0.05))
            })
            .enumerate()
            .filter_map(|(i, (tracked, noise))| tracked.then_some((i, noise)))
            .collect();
        for (month, month_start) in self.calendar.month_starts.iter().enumerate() {
            for &(competitor, product_noise) in &tracked {
                let (name, level, _, _) = COMPETITORS[competitor];
                let day = *month_start + chrono::TimeDelta::days(rng.random_range(0..28));
                let zone = rng.random_range(0..ZONES.len());
                let noise = lognormal(rng, 0.025);
                let mis_scraped = rng.random_bool(COMPETITOR_ERROR_RATE);
                let week = self.calendar.week_containing(day).unwrap_or(0);
                if week < ctx.launch_week {
                    continue;
                }
                let years = self.calendar.week_years[week];
                let mut competitor_price = shelf_price(
                    p.initial_price
                        * ZONE_PRICE_FACTOR[zone]
                        * level
                        * product_noise
                        * (1.0 + COMPETITOR_INFLATION * years)
                        * noise,
                );
                if mis_scraped {
                    competitor_price =
                        cents(competitor_price * if month % 2 == 0 { 10.0 } else { 0.1 }).max(0.01);
                }
                let our_price = ctx.prices.zones[zone].shelf[week];
                self.competitive.execute(params![
                    p.upc,
                    name,
                    competitor_price,
                    our_price,
                    cents(our_price - competitor_price),
                    cents(100.0 * our_price / competitor_price),
                    day.format("%Y-%m-%d").to_string(),
                    ZONES[zone],
                ])?;
            }
        }
        Ok(())
    }

    /// Monthly price snapshots (first Monday) of a product in a store, with the suggested price
    /// of a constant-elasticity profit model and its expected weekly impact.
    fn pricing(
        &mut self,
        rng: &mut ChaCha8Rng,
        ctx: &ProductContext<'_>,
        store: &Store,
        start: usize,
    ) -> rusqlite::Result<()> {
        let p = ctx.product;
        let zone = &ctx.prices.zones[store.zone];
        for &week in &self.calendar.month_first_week {
            let mis_keyed = rng.random_bool(PRICING_ERROR_RATE);
            if week < start {
                continue;
            }
            let current = zone.shelf[week];
            let cost = ctx.prices.cost[week];
            // Profit-maximising price under constant elasticity e < -1: cost * e / (1 + e).
            // Inelastic demand has no interior optimum: move towards a 15% higher price.
            let optimum = if p.elasticity < -1.0 {
                cost * p.elasticity / (1.0 + p.elasticity)
            } else {
                current * 1.15
            };
            let step = (0.5 * (optimum / current - 1.0)).clamp(-0.08, 0.08);
            let suggested = shelf_price(current * (1.0 + step));
            let units = ctx.baseline_units(store, current);
            let ratio = (suggested / current).powf(p.elasticity);
            let recorded = if mis_keyed {
                cents(current * 10.0)
            } else {
                current
            };
            self.pricing.execute(params![
                p.upc,
                store.id,
                self.calendar.week_labels[week],
                recorded,
                suggested,
                ctx.family,
                p.strategy.label(),
                zone.last_reason[week].map(Reason::label),
                cents(units * (ratio - 1.0)),
                cents(units * ratio * suggested - units * current),
            ])?;
        }
        Ok(())
    }

    /// Weekly sales of a product in a store from `start`, then its monthly margins; returns the
    /// number of sales rows.
    fn sales_and_margins(
        &mut self,
        rng: &mut ChaCha8Rng,
        ctx: &ProductContext<'_>,
        store: &Store,
        start: usize,
    ) -> rusqlite::Result<u64> {
        let p = ctx.product;
        let zone = &ctx.prices.zones[store.zone];
        let base = ctx.baseline_units(store, zone.reference);
        let months = self.calendar.month_labels.len();
        let mut revenue_by_month = vec![0.0; months];
        let mut cost_by_month = vec![0.0; months];
        let mut has_month = vec![false; months];
        let mut rows = 0;
        for week in start..WEEKS {
            let shelf = zone.shelf[week];
            let promoted = zone.promo[week].is_some() || zone.state[week] == PriceState::Rollback;
            let price = zone.promo[week].map_or(shelf, |discount| discounted(shelf, discount));
            let expected = base
                * ctx.seasons[week]
                * (1.0 + p.trend).powf(self.calendar.week_years[week])
                * (price / zone.reference).powf(p.elasticity)
                * if promoted { PROMOTION_LIFT } else { 1.0 }
                * lognormal(rng, 0.12);
            let units = poisson(rng, expected);
            // A mis-keyed price is a recording error: shoppers paid the shelf price.
            let price = if rng.random_bool(SALES_PRICE_ERROR_RATE) {
                cents(price * if rng.random_bool(0.5) { 10.0 } else { 0.1 }).max(0.01)
            } else {
                price
            };
            let revenue = cents(units as f64 * price);
            self.sales.execute(params![
                p.upc,
                store.id,
                self.calendar.week_labels[week],
                units,
                revenue,
                price,
                i64::from(promoted),
            ])?;
            rows += 1;
            let month = self.calendar.week_month[week];
            revenue_by_month[month] += revenue;
            cost_by_month[month] += units as f64 * ctx.prices.cost[week];
            has_month[month] = true;
        }
        for month in (0..months).filter(|&m| has_month[m]) {
            let revenue = cents(revenue_by_month[month]);
            let cost = cents(cost_by_month[month]);
            let margin = cents(revenue - cost);
            let percent = (revenue > 0.0).then(|| cents(100.0 * margin / revenue));
            self.margin.execute(params![
                p.upc,
                store.id,
                self.calendar.month_labels[month],
                revenue,
                cost,
                margin,
                percent,
            ])?;
        }
        Ok(rows)
    }

    /// The product's shelf price changes, one row per carrying store of the zone, from the
    /// week the store sells the product.
    fn price_changes(
        &mut self,
        ctx: &ProductContext<'_>,
        stores: &[Store],
        carriers: &[usize],
    ) -> rusqlite::Result<()> {
        let p = ctx.product;
        for change in &ctx.prices.changes {
            for &store in carriers {
                let store = &stores[store];
                let start = ctx
                    .launch_week
                    .max(self.calendar.first_week_from(store.open_date));
                if store.zone != change.zone || change.week < start {
                    continue;
                }
                self.changes.execute(params![
                    p.upc,
                    store.id,
                    self.calendar.week_labels[change.week],
                    change.old_price,
                    change.new_price,
                    cents(100.0 * (change.new_price - change.old_price) / change.old_price),
                    change.reason.label(),
                    approver(change.reason, p, change.zone),
                ])?;
            }
        }
        Ok(())
    }
}
