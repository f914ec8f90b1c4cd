//! The retailer's master data: the category tree, brands, products, price families, stores and
//! which store carries which product (the assortment).
//!
//! The static tables below are the only place where category names, brands, cities and the
//! demand characteristics of each category (volume, margin, elasticity, seasonality, holiday
//! lifts, regional taste) are written down; the rest of the generator reads them from here.

use chrono::{NaiveDate, TimeDelta};
use rand::seq::SliceRandom;
use rand::Rng;
use rand_chacha::ChaCha8Rng;

use super::calendar::{date, Calendar, WEEKS};
use super::draw::{cents, lognormal, normal, shelf_price, uniform};

/// The pricing zones, in the order every per-zone array uses.
pub(crate) const ZONES: [&str; 5] = ["North", "South", "East", "West", "Central"];
/// Regular price level of each zone relative to the chain reference price.
pub(crate) const ZONE_PRICE_FACTOR: [f64; 5] = [1.00, 0.97, 1.04, 1.05, 0.96];
/// The retailer's own label, sold in every category.
pub(crate) const STORE_BRAND: &str = "Harvest Select";
/// Products generated per category.
const PRODUCTS_PER_CATEGORY: usize = 42;

/// Market position of a brand.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Tier {
    Premium,
    National,
    Value,
    /// The retailer's private label.
    Store,
}

impl Tier {
    fn price_factor(self) -> f64 {
        match self {
            Self::Premium => 1.30,
            Self::National => 1.00,
            Self::Value => 0.86,
            Self::Store => 0.80,
        }
    }
    fn volume_factor(self) -> f64 {
        match self {
            Self::Premium => 0.70,
            Self::National => 1.00,
            Self::Value => 0.90,
            Self::Store => 1.10,
        }
    }
    fn margin_shift(self) -> f64 {
        match self {
            Self::Premium => 0.05,
            Self::National => 0.0,
            Self::Value => -0.04,
            Self::Store => 0.06,
        }
    }
    /// Premium buyers care less about price; value buyers more.
    fn elasticity_shift(self) -> f64 {
        match self {
            Self::Premium => 0.35,
            Self::National => 0.0,
            Self::Value => -0.25,
            Self::Store => -0.10,
        }
    }
}

/// A package size: label, unit of measure and price relative to the sub-category's base.
pub(crate) struct SizeSpec {
    label: &'static str,
    unit: &'static str,
    price_factor: f64,
}

const fn size(label: &'static str, unit: &'static str, price_factor: f64) -> SizeSpec {
    SizeSpec {
        label,
        unit,
        price_factor,
    }
}

/// A sub-category (category_level_3): base price of its first size and its product variants.
pub(crate) struct SubcatSpec {
    name: &'static str,
    base_price: f64,
    variants: &'static [&'static str],
    sizes: &'static [SizeSpec],
}

/// A category (category_level_2) and how its products sell.
pub(crate) struct CategorySpec {
    pub level1: &'static str,
    pub level2: &'static str,
    brands: [(&'static str, Tier); 4],
    subcats: &'static [SubcatSpec],
    /// Weekly units of a typical product in a Neighborhood store at its regular price.
    pub base_units: f64,
    /// Typical gross margin at the regular price (share of the price).
    margin: f64,
    /// Mean price elasticity of the category's products.
    elasticity_mean: f64,
    /// Chance that a price family starts a promotion in a zone in a given week.
    pub promo_rate: f64,
    /// Relative swing of demand over the year, and the day of the year when it peaks.
    pub season_amplitude: f64,
    pub season_peak_day: f64,
    /// Demand multiplier in the week of each [`super::calendar::Holiday`].
    pub holiday_lifts: [f64; 4],
    /// Demand multiplier in each zone (regional taste).
    pub zone_affinity: [f64; 5],
}

const FLAVORS: &[&str] = &[
    "Vanilla Bean Ice Cream",
    "Chocolate Fudge Ice Cream",
    "Mint Chocolate Chip Ice Cream",
    "Strawberry Ice Cream",
    "Cookie Dough Ice Cream",
    "Salted Caramel Ice Cream",
];

/// The category tree. Order matters only for determinism.
pub(crate) const CATEGORIES: &[CategorySpec] = &[
    CategorySpec {
        level1: "Frozen",
        level2: "Frozen Food",
        brands: [
            ("Polar Kitchen", Tier::National),
            ("Northfield Farms", Tier::National),
            ("Bella Forno", Tier::Premium),
            ("Frostline", Tier::Value),
        ],
        subcats: &[
            SubcatSpec {
                name: "Frozen Pizza",
                base_price: 5.49,
                variants: &[
                    "Pepperoni Pizza",
                    "Four Cheese Pizza",
                    "Supreme Pizza",
                    "Margherita Pizza",
                    "Sausage & Mushroom Pizza",
                ],
                sizes: &[size("12 oz", "oz", 1.0), size("21 oz", "oz", 1.45)],
            },
            SubcatSpec {
                name: "Frozen Meals",
                base_price: 3.29,
                variants: &[
                    "Chicken Alfredo",
                    "Beef Lasagna",
                    "Teriyaki Chicken Bowl",
                    "Macaroni & Cheese",
                    "Chicken Enchiladas",
                ],
                sizes: &[size("10 oz", "oz", 1.0), size("32 oz", "oz", 2.4)],
            },
            SubcatSpec {
                name: "Frozen Vegetables",
                base_price: 1.99,
                variants: &[
                    "Sweet Peas",
                    "Mixed Vegetables",
                    "Broccoli Florets",
                    "Sweet Corn",
                    "Cut Green Beans",
                ],
                sizes: &[size("12 oz", "oz", 1.0), size("32 oz", "oz", 2.1)],
            },
            SubcatSpec {
                name: "Frozen Breakfast",
                base_price: 3.49,
                variants: &[
                    "Homestyle Waffles",
                    "Breakfast Burritos",
                    "Buttermilk Pancakes",
                    "Sausage Biscuits",
                ],
                sizes: &[size("10 ct", "ct", 1.0), size("24 ct", "ct", 2.0)],
            },
        ],
        base_units: 16.0,
        margin: 0.32,
        elasticity_mean: -1.7,
        promo_rate: 0.07,
        season_amplitude: 0.12,
        season_peak_day: 20.0,
        holiday_lifts: [1.15, 1.0, 1.0, 1.05],
        zone_affinity: [1.08, 0.95, 1.0, 0.97, 1.05],
    },
    CategorySpec {
        level1: "Frozen",
        level2: "Ice Cream",
        brands: [
            ("Arctic Scoop", Tier::National),
            ("Creamery Lane", Tier::Premium),
            ("Frosty Peak", Tier::Value),
            ("Sweet Tundra", Tier::National),
        ],
        subcats: &[
            SubcatSpec {
                name: "Pints",
                base_price: 4.49,
                variants: FLAVORS,
                sizes: &[size("16 fl oz", "fl oz", 1.0)],
            },
            SubcatSpec {
                name: "Half Gallons",
                base_price: 4.99,
                variants: FLAVORS,
                sizes: &[
                    size("48 fl oz", "fl oz", 1.0),
                    size("64 fl oz", "fl oz", 1.25),
                ],
            },
            SubcatSpec {
                name: "Novelties",
                base_price: 4.29,
                variants: &[
                    "Ice Cream Sandwiches",
                    "Fudge Bars",
                    "Fruit Bars",
                    "Mini Cones",
                ],
                sizes: &[size("6 ct", "ct", 1.0), size("12 ct", "ct", 1.7)],
            },
            SubcatSpec {
                name: "Frozen Yogurt",
                base_price: 4.79,
                variants: &[
                    "Vanilla Frozen Yogurt",
                    "Strawberry Frozen Yogurt",
                    "Peach Frozen Yogurt",
                ],
                sizes: &[
                    size("16 fl oz", "fl oz", 0.8),
                    size("48 fl oz", "fl oz", 1.0),
                ],
            },
        ],
        base_units: 14.0,
        margin: 0.35,
        elasticity_mean: -1.9,
        promo_rate: 0.08,
        season_amplitude: 0.55,
        season_peak_day: 196.0,
        holiday_lifts: [1.0, 1.25, 1.0, 1.0],
        zone_affinity: [0.88, 1.15, 0.98, 1.10, 1.0],
    },
    CategorySpec {
        level1: "Dairy",
        level2: "Dairy",
        brands: [
            ("Meadowbrook Dairy", Tier::National),
            ("Clover Hills", Tier::National),
            ("Alpine Creamery", Tier::Premium),
            ("Sunny Acres", Tier::Value),
        ],
        subcats: &[
            SubcatSpec {
                name: "Milk",
                base_price: 3.79,
                variants: &[
                    "Whole Milk",
                    "2% Reduced Fat Milk",
                    "Skim Milk",
                    "Chocolate Milk",
                    "Lactose Free Milk",
                ],
                sizes: &[size("1 gal", "gal", 1.0), size("0.5 gal", "gal", 0.6)],
            },
            SubcatSpec {
                name: "Cheese",
                base_price: 3.49,
                variants: &[
                    "Sharp Cheddar",
                    "Mozzarella",
                    "Colby Jack",
                    "Swiss Slices",
                    "Shredded Parmesan",
                ],
                sizes: &[size("8 oz", "oz", 1.0), size("16 oz", "oz", 1.8)],
            },
            SubcatSpec {
                name: "Yogurt",
                base_price: 4.29,
                variants: &[
                    "Plain Greek Yogurt",
                    "Vanilla Greek Yogurt",
                    "Strawberry Yogurt",
                    "Blueberry Yogurt",
                ],
                sizes: &[size("32 oz", "oz", 1.0), size("5.3 oz", "oz", 0.3)],
            },
            SubcatSpec {
                name: "Butter",
                base_price: 4.99,
                variants: &["Salted Butter", "Unsalted Butter", "Whipped Butter"],
                sizes: &[size("16 oz", "oz", 1.0), size("8 oz", "oz", 0.6)],
            },
            SubcatSpec {
                name: "Eggs",
                base_price: 3.29,
                variants: &["Large White Eggs", "Large Brown Eggs", "Cage Free Eggs"],
                sizes: &[size("12 ct", "ct", 1.0), size("18 ct", "ct", 1.4)],
            },
        ],
        base_units: 40.0,
        margin: 0.25,
        elasticity_mean: -0.7,
        promo_rate: 0.05,
        season_amplitude: 0.04,
        season_peak_day: 350.0,
        holiday_lifts: [1.0, 1.0, 1.2, 1.2],
        zone_affinity: [1.05, 0.97, 1.0, 0.98, 1.02],
    },
    CategorySpec {
        level1: "Grocery",
        level2: "Snacks",
        brands: [
            ("Crunch Co", Tier::National),
            ("Sunny Bites", Tier::National),
            ("Trailblazer", Tier::Premium),
            ("Zesty Valley", Tier::Value),
        ],
        subcats: &[
            SubcatSpec {
                name: "Chips",
                base_price: 3.99,
                variants: &[
                    "Classic Potato Chips",
                    "Sea Salt Kettle Chips",
                    "BBQ Potato Chips",
                    "Tortilla Chips",
                    "Sour Cream & Onion Chips",
                ],
                sizes: &[size("8 oz", "oz", 1.0), size("13 oz", "oz", 1.4)],
            },
            SubcatSpec {
                name: "Crackers",
                base_price: 3.29,
                variants: &[
                    "Saltine Crackers",
                    "Cheese Crackers",
                    "Whole Wheat Crackers",
                    "Butter Crackers",
                ],
                sizes: &[size("7 oz", "oz", 1.0), size("16 oz", "oz", 1.8)],
            },
            SubcatSpec {
                name: "Cookies",
                base_price: 3.79,
                variants: &[
                    "Chocolate Chip Cookies",
                    "Oatmeal Raisin Cookies",
                    "Sandwich Cookies",
                    "Shortbread Cookies",
                ],
                sizes: &[size("13 oz", "oz", 1.0), size("20 oz", "oz", 1.45)],
            },
            SubcatSpec {
                name: "Nuts & Trail Mix",
                base_price: 5.99,
                variants: &["Roasted Almonds", "Mixed Nuts", "Trail Mix", "Cashews"],
                sizes: &[size("10 oz", "oz", 1.0), size("24 oz", "oz", 2.0)],
            },
            SubcatSpec {
                name: "Popcorn",
                base_price: 3.49,
                variants: &[
                    "Butter Microwave Popcorn",
                    "Kettle Corn",
                    "White Cheddar Popcorn",
                ],
                sizes: &[size("6 ct", "ct", 1.0), size("12 ct", "ct", 1.7)],
            },
        ],
        base_units: 28.0,
        margin: 0.38,
        elasticity_mean: -2.1,
        promo_rate: 0.09,
        season_amplitude: 0.05,
        season_peak_day: 190.0,
        holiday_lifts: [1.5, 1.2, 1.05, 1.1],
        zone_affinity: [1.0, 1.03, 0.98, 1.0, 1.04],
    },
    CategorySpec {
        level1: "Grocery",
        level2: "Beverages",
        brands: [
            ("Fizzwell", Tier::National),
            ("Orchard Pure", Tier::Premium),
            ("Blue Spring", Tier::Value),
            ("Voltage", Tier::National),
        ],
        subcats: &[
            SubcatSpec {
                name: "Soft Drinks",
                base_price: 6.49,
                variants: &[
                    "Cola",
                    "Diet Cola",
                    "Lemon Lime Soda",
                    "Root Beer",
                    "Orange Soda",
                ],
                sizes: &[size("12 ct", "ct", 1.0), size("67.6 fl oz", "fl oz", 0.35)],
            },
            SubcatSpec {
                name: "Juice",
                base_price: 3.99,
                variants: &[
                    "Orange Juice",
                    "Apple Juice",
                    "Cranberry Juice Cocktail",
                    "Grape Juice",
                ],
                sizes: &[
                    size("52 fl oz", "fl oz", 1.0),
                    size("89 fl oz", "fl oz", 1.5),
                ],
            },
            SubcatSpec {
                name: "Bottled Water",
                base_price: 4.99,
                variants: &["Purified Water", "Spring Water", "Alkaline Water"],
                sizes: &[size("24 ct", "ct", 1.0), size("35 ct", "ct", 1.35)],
            },
            SubcatSpec {
                name: "Energy Drinks",
                base_price: 2.49,
                variants: &[
                    "Original Energy Drink",
                    "Sugar Free Energy Drink",
                    "Tropical Energy Drink",
                ],
                sizes: &[size("16 fl oz", "fl oz", 1.0), size("4 ct", "ct", 3.2)],
            },
            SubcatSpec {
                name: "Sparkling Water",
                base_price: 4.49,
                variants: &[
                    "Lime Sparkling Water",
                    "Grapefruit Sparkling Water",
                    "Berry Sparkling Water",
                ],
                sizes: &[size("8 ct", "ct", 1.0), size("12 ct", "ct", 1.4)],
            },
        ],
        base_units: 35.0,
        margin: 0.30,
        elasticity_mean: -2.3,
        promo_rate: 0.09,
        season_amplitude: 0.20,
        season_peak_day: 190.0,
        holiday_lifts: [1.3, 1.3, 1.05, 1.1],
        zone_affinity: [0.94, 1.10, 0.98, 1.06, 1.0],
    },
    CategorySpec {
        level1: "Fresh",
        level2: "Bakery",
        brands: [
            ("Hearthstone Bakery", Tier::National),
            ("Golden Crust", Tier::National),
            ("Artisan Loaf Co", Tier::Premium),
            ("Daily Bread", Tier::Value),
        ],
        subcats: &[
            SubcatSpec {
                name: "Bread",
                base_price: 3.29,
                variants: &[
                    "White Sandwich Bread",
                    "Whole Wheat Bread",
                    "Sourdough Loaf",
                    "Multigrain Bread",
                    "Rye Bread",
                ],
                sizes: &[size("20 oz", "oz", 1.0), size("24 oz", "oz", 1.15)],
            },
            SubcatSpec {
                name: "Bagels",
                base_price: 3.49,
                variants: &[
                    "Plain Bagels",
                    "Everything Bagels",
                    "Cinnamon Raisin Bagels",
                ],
                sizes: &[size("6 ct", "ct", 1.0)],
            },
            SubcatSpec {
                name: "Muffins",
                base_price: 4.49,
                variants: &[
                    "Blueberry Muffins",
                    "Chocolate Chip Muffins",
                    "Banana Nut Muffins",
                ],
                sizes: &[size("4 ct", "ct", 1.0), size("6 ct", "ct", 1.4)],
            },
            SubcatSpec {
                name: "Cakes & Pies",
                base_price: 7.99,
                variants: &[
                    "Apple Pie",
                    "Pumpkin Pie",
                    "Chocolate Layer Cake",
                    "Carrot Cake",
                ],
                sizes: &[size("24 oz", "oz", 1.0), size("36 oz", "oz", 1.4)],
            },
            SubcatSpec {
                name: "Tortillas",
                base_price: 2.99,
                variants: &["Flour Tortillas", "Corn Tortillas", "Whole Wheat Tortillas"],
                sizes: &[size("10 ct", "ct", 1.0), size("20 ct", "ct", 1.7)],
            },
        ],
        base_units: 24.0,
        margin: 0.45,
        elasticity_mean: -1.0,
        promo_rate: 0.05,
        season_amplitude: 0.05,
        season_peak_day: 340.0,
        holiday_lifts: [1.0, 1.05, 1.4, 1.3],
        zone_affinity: [1.0, 0.98, 1.08, 0.97, 1.0],
    },
    CategorySpec {
        level1: "Fresh",
        level2: "Produce",
        brands: [
            ("Green Valley Farms", Tier::National),
            ("Sunripe", Tier::National),
            ("Fresh Fields Organic", Tier::Premium),
            ("Farmstand", Tier::Value),
        ],
        subcats: &[
            SubcatSpec {
                name: "Fruit",
                base_price: 3.49,
                variants: &[
                    "Gala Apples",
                    "Honeycrisp Apples",
                    "Bananas",
                    "Navel Oranges",
                    "Red Grapes",
                    "Bartlett Pears",
                ],
                sizes: &[size("3 lb", "lb", 1.0), size("2 lb", "lb", 0.75)],
            },
            SubcatSpec {
                name: "Berries",
                base_price: 3.99,
                variants: &["Strawberries", "Blueberries", "Raspberries", "Blackberries"],
                sizes: &[size("16 oz", "oz", 1.0), size("6 oz", "oz", 0.6)],
            },
            SubcatSpec {
                name: "Vegetables",
                base_price: 2.49,
                variants: &[
                    "Russet Potatoes",
                    "Yellow Onions",
                    "Baby Carrots",
                    "Broccoli Crowns",
                    "Sweet Potatoes",
                ],
                sizes: &[size("2 lb", "lb", 1.0), size("5 lb", "lb", 1.9)],
            },
            SubcatSpec {
                name: "Salad",
                base_price: 3.29,
                variants: &[
                    "Spring Mix",
                    "Romaine Hearts",
                    "Caesar Salad Kit",
                    "Baby Spinach",
                ],
                sizes: &[size("10 oz", "oz", 1.0), size("16 oz", "oz", 1.4)],
            },
        ],
        base_units: 42.0,
        margin: 0.35,
        elasticity_mean: -0.9,
        promo_rate: 0.05,
        season_amplitude: 0.12,
        season_peak_day: 180.0,
        holiday_lifts: [1.0, 1.1, 1.3, 1.1],
        zone_affinity: [0.96, 1.0, 1.0, 1.08, 0.97],
    },
    CategorySpec {
        level1: "Fresh",
        level2: "Meat",
        brands: [
            ("Prairie Ranch", Tier::National),
            ("Heritage Farms", Tier::National),
            ("Smokehouse Select", Tier::Premium),
            ("Valley Butcher", Tier::Value),
        ],
        subcats: &[
            SubcatSpec {
                name: "Beef",
                base_price: 6.99,
                variants: &[
                    "Ground Beef 80/20",
                    "Ground Beef 93/7",
                    "Ribeye Steak",
                    "Sirloin Steak",
                    "Beef Stew Meat",
                ],
                sizes: &[size("1 lb", "lb", 1.0), size("2 lb", "lb", 1.9)],
            },
            SubcatSpec {
                name: "Chicken",
                base_price: 4.99,
                variants: &[
                    "Boneless Chicken Breast",
                    "Chicken Thighs",
                    "Chicken Drumsticks",
                    "Whole Chicken",
                ],
                sizes: &[size("3 lb", "lb", 1.0), size("1 lb", "lb", 0.4)],
            },
            SubcatSpec {
                name: "Pork",
                base_price: 5.49,
                variants: &["Pork Chops", "Pork Tenderloin", "Baby Back Ribs"],
                sizes: &[size("1 lb", "lb", 1.0), size("2 lb", "lb", 1.8)],
            },
            SubcatSpec {
                name: "Sausage & Bacon",
                base_price: 4.99,
                variants: &[
                    "Thick Cut Bacon",
                    "Breakfast Sausage",
                    "Italian Sausage",
                    "Smoked Sausage",
                ],
                sizes: &[size("16 oz", "oz", 1.0), size("12 oz", "oz", 0.85)],
            },
        ],
        base_units: 18.0,
        margin: 0.28,
        elasticity_mean: -1.2,
        promo_rate: 0.06,
        season_amplitude: 0.12,
        season_peak_day: 185.0,
        holiday_lifts: [1.1, 1.4, 1.2, 1.2],
        zone_affinity: [1.0, 1.03, 0.96, 0.97, 1.10],
    },
    CategorySpec {
        level1: "Grocery",
        level2: "Cereal",
        brands: [
            ("Morning Crunch", Tier::National),
            ("Sunrise Mills", Tier::National),
            ("Wholesome Grain", Tier::Premium),
            ("Bright Start", Tier::Value),
        ],
        subcats: &[
            SubcatSpec {
                name: "Kids Cereal",
                base_price: 4.29,
                variants: &[
                    "Frosted Corn Flakes",
                    "Fruity Rings",
                    "Chocolate Puffs",
                    "Honey Crunch Squares",
                ],
                sizes: &[size("12 oz", "oz", 1.0), size("18 oz", "oz", 1.35)],
            },
            SubcatSpec {
                name: "Family Cereal",
                base_price: 4.49,
                variants: &[
                    "Toasted Oat Rings",
                    "Bran Flakes",
                    "Honey Nut Oats",
                    "Raisin Bran",
                    "Corn Flakes",
                ],
                sizes: &[size("14 oz", "oz", 1.0), size("20 oz", "oz", 1.35)],
            },
            SubcatSpec {
                name: "Granola",
                base_price: 4.99,
                variants: &[
                    "Honey Almond Granola",
                    "Maple Pecan Granola",
                    "Berry Granola",
                ],
                sizes: &[size("12 oz", "oz", 1.0), size("24 oz", "oz", 1.8)],
            },
            SubcatSpec {
                name: "Oatmeal",
                base_price: 3.99,
                variants: &[
                    "Old Fashioned Oats",
                    "Quick Oats",
                    "Instant Oatmeal Variety",
                ],
                sizes: &[size("18 oz", "oz", 1.0), size("42 oz", "oz", 1.9)],
            },
        ],
        base_units: 15.0,
        margin: 0.33,
        elasticity_mean: -1.6,
        promo_rate: 0.07,
        season_amplitude: 0.07,
        season_peak_day: 250.0,
        holiday_lifts: [1.0, 1.0, 1.0, 1.0],
        zone_affinity: [1.04, 0.98, 1.0, 0.98, 1.02],
    },
    CategorySpec {
        level1: "Grocery",
        level2: "Coffee",
        brands: [
            ("Mountain Roast", Tier::National),
            ("Daybreak Coffee", Tier::National),
            ("Black Summit", Tier::Premium),
            ("Brewmaster", Tier::Value),
        ],
        subcats: &[
            SubcatSpec {
                name: "Ground Coffee",
                base_price: 7.99,
                variants: &[
                    "Breakfast Blend",
                    "Colombian Medium Roast",
                    "French Roast",
                    "Decaf House Blend",
                    "Hazelnut Coffee",
                ],
                sizes: &[size("12 oz", "oz", 1.0), size("30 oz", "oz", 2.1)],
            },
            SubcatSpec {
                name: "Whole Bean",
                base_price: 9.49,
                variants: &[
                    "Espresso Roast Beans",
                    "Ethiopian Light Roast Beans",
                    "Sumatra Dark Roast Beans",
                ],
                sizes: &[size("12 oz", "oz", 1.0), size("32 oz", "oz", 2.3)],
            },
            SubcatSpec {
                name: "Coffee Pods",
                base_price: 8.99,
                variants: &[
                    "Breakfast Blend Pods",
                    "Dark Roast Pods",
                    "Decaf Pods",
                    "Hazelnut Pods",
                ],
                sizes: &[size("12 ct", "ct", 1.0), size("24 ct", "ct", 1.8)],
            },
            SubcatSpec {
                name: "Instant Coffee",
                base_price: 6.49,
                variants: &["Classic Instant Coffee", "Instant Espresso"],
                sizes: &[size("8 oz", "oz", 1.0), size("4 oz", "oz", 0.6)],
            },
            SubcatSpec {
                name: "Cold Brew",
                base_price: 5.49,
                variants: &[
                    "Original Cold Brew",
                    "Vanilla Cold Brew",
                    "Black Cold Brew Concentrate",
                ],
                sizes: &[size("32 fl oz", "fl oz", 1.0)],
            },
        ],
        base_units: 12.0,
        margin: 0.32,
        elasticity_mean: -1.3,
        promo_rate: 0.06,
        season_amplitude: 0.25,
        season_peak_day: 15.0,
        holiday_lifts: [1.0, 1.0, 1.1, 1.1],
        zone_affinity: [1.12, 0.92, 1.05, 1.0, 0.98],
    },
];

/// How a product's price is managed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Strategy {
    Edlp,
    HighLow,
    Premium,
    Competitive,
}

impl Strategy {
    /// The spelling in `pricing.pricing_strategy`.
    pub(crate) fn label(self) -> &'static str {
        match self {
            Self::Edlp => "EDLP",
            Self::HighLow => "High-Low",
            Self::Premium => "Premium",
            Self::Competitive => "Competitive",
        }
    }
    /// Promotion frequency relative to the category's rate.
    pub(crate) fn promo_factor(self) -> f64 {
        match self {
            Self::Edlp => 0.4,
            Self::HighLow => 1.6,
            Self::Premium => 0.7,
            Self::Competitive => 1.0,
        }
    }
}

/// A product and the hidden parameters its sales are drawn from.
pub(crate) struct Product {
    pub upc: String,
    pub name: String,
    pub brand: &'static str,
    pub tier: Tier,
    /// Index into [`CATEGORIES`].
    pub category: usize,
    pub level3: &'static str,
    pub package_size: &'static str,
    pub unit: &'static str,
    /// Chain reference shelf price on 2023-01-02 (before zone factors).
    pub initial_price: f64,
    /// Unit cost on 2023-01-02 (dollars, unrounded).
    pub initial_cost: f64,
    /// Index into the families list.
    pub family: usize,
    pub created: NaiveDate,
    /// Relative demand of the product within its category (median 1).
    pub popularity: f64,
    /// Price elasticity of demand, rounded as stored; demand follows it exactly.
    pub elasticity: f64,
    pub elasticity_confidence: f64,
    pub elasticity_updated: NaiveDate,
    pub strategy: Strategy,
    /// Yearly growth of demand.
    pub trend: f64,
    /// Discontinued items: the week the clearance price starts and its discount.
    pub clearance: Option<(usize, f64)>,
}

/// Products priced together: one brand within one sub-category.
pub(crate) struct Family {
    pub name: String,
    pub category: usize,
    pub members: Vec<usize>,
}

/// Store format.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Format {
    Supercenter,
    Neighborhood,
    Express,
}

impl Format {
    pub(crate) fn label(self) -> &'static str {
        match self {
            Self::Supercenter => "Supercenter",
            Self::Neighborhood => "Neighborhood",
            Self::Express => "Express",
        }
    }
    /// Number of catalogue products a store of this format carries.
    fn assortment(self) -> usize {
        match self {
            Self::Supercenter => 100,
            Self::Neighborhood => 55,
            Self::Express => 30,
        }
    }
    /// Customer traffic relative to a Neighborhood store.
    fn traffic(self) -> f64 {
        match self {
            Self::Supercenter => 1.5,
            Self::Neighborhood => 1.0,
            Self::Express => 0.55,
        }
    }
    fn square_feet(self) -> (f64, f64) {
        match self {
            Self::Supercenter => (140_000.0, 210_000.0),
            Self::Neighborhood => (38_000.0, 65_000.0),
            Self::Express => (8_000.0, 16_000.0),
        }
    }
}

/// Formats of the eight store slots of each zone and scale unit.
const ZONE_FORMATS: [Format; 8] = [
    Format::Supercenter,
    Format::Neighborhood,
    Format::Express,
    Format::Neighborhood,
    Format::Supercenter,
    Format::Neighborhood,
    Format::Neighborhood,
    Format::Express,
];

/// Cities of each zone: (city, state, region).
const CITIES: [[(&str, &str, &str); 8]; 5] = [
    [
        ("Minneapolis", "MN", "Upper Midwest"),
        ("Fargo", "ND", "Upper Midwest"),
        ("Sioux Falls", "SD", "Upper Midwest"),
        ("Duluth", "MN", "Upper Midwest"),
        ("Milwaukee", "WI", "Great Lakes"),
        ("Detroit", "MI", "Great Lakes"),
        ("Grand Rapids", "MI", "Great Lakes"),
        ("Madison", "WI", "Great Lakes"),
    ],
    [
        ("Atlanta", "GA", "Southeast"),
        ("Charlotte", "NC", "Southeast"),
        ("Nashville", "TN", "Southeast"),
        ("Orlando", "FL", "Southeast"),
        ("Houston", "TX", "Gulf Coast"),
        ("New Orleans", "LA", "Gulf Coast"),
        ("Mobile", "AL", "Gulf Coast"),
        ("Tampa", "FL", "Gulf Coast"),
    ],
    [
        ("Boston", "MA", "New England"),
        ("Hartford", "CT", "New England"),
        ("Providence", "RI", "New England"),
        ("Albany", "NY", "New England"),
        ("Philadelphia", "PA", "Mid-Atlantic"),
        ("Baltimore", "MD", "Mid-Atlantic"),
        ("Richmond", "VA", "Mid-Atlantic"),
        ("Newark", "NJ", "Mid-Atlantic"),
    ],
    [
        ("Seattle", "WA", "Pacific"),
        ("Portland", "OR", "Pacific"),
        ("Sacramento", "CA", "Pacific"),
        ("San Diego", "CA", "Pacific"),
        ("Denver", "CO", "Mountain"),
        ("Salt Lake City", "UT", "Mountain"),
        ("Boise", "ID", "Mountain"),
        ("Phoenix", "AZ", "Mountain"),
    ],
    [
        ("Kansas City", "MO", "Plains"),
        ("Omaha", "NE", "Plains"),
        ("Wichita", "KS", "Plains"),
        ("Oklahoma City", "OK", "Plains"),
        ("Indianapolis", "IN", "Heartland"),
        ("Columbus", "OH", "Heartland"),
        ("St. Louis", "MO", "Heartland"),
        ("Des Moines", "IA", "Heartland"),
    ],
];

/// A store and its hidden traffic level.
pub(crate) struct Store {
    pub id: String,
    pub name: String,
    /// Index into [`ZONES`].
    pub zone: usize,
    pub region: &'static str,
    pub city: &'static str,
    pub state: &'static str,
    pub format: Format,
    pub square_feet: i64,
    pub open_date: NaiveDate,
    /// Customer traffic relative to an average Neighborhood store.
    pub traffic: f64,
}

/// A UPC-A code: number system 0, a five-digit company prefix, a five-digit item number and the
/// check digit (GS1: three times the odd positions plus the even positions, to a multiple of 10).
pub(crate) fn upc_a(company: u32, item: u32) -> String {
    let body = format!("0{:05}{:05}", company % 100_000, item % 100_000);
    let sum: u32 = body
        .bytes()
        .enumerate()
        .map(|(i, b)| u32::from(b - b'0') * if i % 2 == 0 { 3 } else { 1 })
        .sum();
    format!("{body}{}", (10 - sum % 10) % 10)
}

/// A uniformly drawn day in `[from, to]`.
fn day_between(rng: &mut ChaCha8Rng, from: NaiveDate, to: NaiveDate) -> NaiveDate {
    let span = (to - from).num_days().max(0);
    from + TimeDelta::days(rng.random_range(0..=span))
}

/// Draws the catalogue: [`PRODUCTS_PER_CATEGORY`] products per category and their families.
pub(crate) fn build_products(
    rng: &mut ChaCha8Rng,
    calendar: &Calendar,
) -> (Vec<Product>, Vec<Family>) {
    let mut brands: Vec<&'static str> = vec![STORE_BRAND];
    let mut brand_items: Vec<u32> = vec![0];
    let mut products: Vec<Product> = Vec::new();
    let mut families: Vec<Family> = Vec::new();
    for (category_index, category) in CATEGORIES.iter().enumerate() {
        let mut category_brands: Vec<(&'static str, Tier)> = category.brands.to_vec();
        category_brands.push((STORE_BRAND, Tier::Store));
        let mut taken: Vec<(usize, usize, usize, usize)> = Vec::new();
        for k in 0..PRODUCTS_PER_CATEGORY {
            let subcat_index = k % category.subcats.len();
            let subcat = &category.subcats[subcat_index];
            // A few draws suffice: each sub-category offers at least 5 x 3 x 1 combinations.
            let mut combination = None;
            for _ in 0..50 {
                let candidate = (
                    subcat_index,
                    rng.random_range(0..category_brands.len()),
                    rng.random_range(0..subcat.variants.len()),
                    rng.random_range(0..subcat.sizes.len()),
                );
                if !taken.contains(&candidate) {
                    combination = Some(candidate);
                    break;
                }
            }
            let Some(combination) = combination else {
                continue;
            };
            taken.push(combination);
            let (_, brand_index, variant_index, size_index) = combination;
            let (brand, tier) = category_brands[brand_index];
            let size = &subcat.sizes[size_index];

            let global_brand = match brands.iter().position(|b| *b == brand) {
                Some(i) => i,
                None => {
                    brands.push(brand);
                    brand_items.push(0);
                    brands.len() - 1
                }
            };
            brand_items[global_brand] += 1;
            let upc = upc_a(
                10_000 + 1_237 * global_brand as u32,
                10_000 + 37 * brand_items[global_brand],
            );

            let family_name = format!("{brand} {}", subcat.name);
            let family = match families.iter().position(|f| f.name == family_name) {
                Some(i) => i,
                None => {
                    families.push(Family {
                        name: family_name,
                        category: category_index,
                        members: Vec::new(),
                    });
                    families.len() - 1
                }
            };
            families[family].members.push(products.len());

            let initial_price = shelf_price(
                subcat.base_price * size.price_factor * tier.price_factor() * lognormal(rng, 0.07),
            );
            let margin =
                (category.margin + tier.margin_shift() + 0.04 * normal(rng)).clamp(0.08, 0.60);
            let elasticity = cents(
                (category.elasticity_mean + tier.elasticity_shift() + 0.45 * normal(rng))
                    .clamp(-4.2, -0.25),
            );
            let launched_recently = rng.random_bool(0.05);
            let created = if launched_recently {
                day_between(rng, date(2023, 3, 1), date(2024, 9, 30))
            } else {
                day_between(rng, date(2012, 1, 1), date(2022, 12, 31))
            };
            let strategy = match tier {
                Tier::Store | Tier::Value => Strategy::Edlp,
                Tier::Premium => Strategy::Premium,
                Tier::National if category.promo_rate >= 0.07 => Strategy::HighLow,
                Tier::National => Strategy::Competitive,
            };
            let strategy = if rng.random_bool(0.1) {
                Strategy::Competitive
            } else {
                strategy
            };
            let launch_week = calendar.first_week_from(created);
            let clearance = (rng.random_bool(0.025) && launch_week + 20 < WEEKS - 16).then(|| {
                (
                    rng.random_range(WEEKS - 16..WEEKS - 4),
                    uniform(rng, 0.30, 0.50),
                )
            });
            products.push(Product {
                upc,
                name: format!("{brand} {} {}", subcat.variants[variant_index], size.label),
                brand,
                tier,
                category: category_index,
                level3: subcat.name,
                package_size: size.label,
                unit: size.unit,
                initial_price,
                initial_cost: initial_price * (1.0 - margin),
                family,
                created,
                popularity: lognormal(rng, 0.55) * tier.volume_factor(),
                elasticity,
                elasticity_confidence: cents(uniform(rng, 0.55, 0.97)),
                elasticity_updated: day_between(rng, date(2024, 7, 1), date(2024, 12, 27)),
                strategy,
                trend: 0.02 + 0.07 * normal(rng),
                clearance,
            });
        }
    }
    (products, families)
}

/// Draws `40 * scale` stores, eight per zone and scale unit, numbered in a shuffled order.
pub(crate) fn build_stores(rng: &mut ChaCha8Rng, scale: usize) -> Vec<Store> {
    let mut slots: Vec<(usize, usize)> = (0..ZONES.len())
        .flat_map(|zone| (0..8 * scale).map(move |slot| (zone, slot)))
        .collect();
    slots.shuffle(rng);
    let mut stores = Vec::with_capacity(slots.len());
    for (index, (zone, slot)) in slots.into_iter().enumerate() {
        let (city, state, region) = CITIES[zone][slot % 8];
        let format = ZONE_FORMATS[slot % 8];
        let copy = slot / 8 + 1;
        let name = if copy == 1 {
            format!("{city} {}", format.label())
        } else {
            format!("{city} {} #{copy}", format.label())
        };
        let (low, high) = format.square_feet();
        // Every twentieth store is new: it opened during the two years of sales.
        let open_date = if index % 20 == 18 {
            day_between(rng, date(2023, 4, 1), date(2024, 5, 31))
        } else {
            day_between(rng, date(1996, 1, 1), date(2021, 12, 31))
        };
        stores.push(Store {
            id: format!("S{:03}", index + 1),
            name,
            zone,
            region,
            city,
            state,
            format,
            square_feet: ((uniform(rng, low, high) / 500.0).round() * 500.0) as i64,
            open_date,
            traffic: format.traffic() * lognormal(rng, 0.15),
        });
    }
    stores
}

/// For each product, the indices (ascending) of the stores that carry it.
///
/// Each store takes its format's number of products by weighted sampling without replacement
/// (Efraimidis-Spirakis keys, popular products are carried more widely); a product no store
/// drew goes to the Supercenters in turn, so that every product sells somewhere.
pub(crate) fn build_assortment(
    rng: &mut ChaCha8Rng,
    products: &[Product],
    stores: &[Store],
) -> Vec<Vec<usize>> {
    let mut carriers: Vec<Vec<usize>> = vec![Vec::new(); products.len()];
    for (store_index, store) in stores.iter().enumerate() {
        let mut keys: Vec<(f64, usize)> = products
            .iter()
            .enumerate()
            .map(|(i, p)| {
                let u = 1.0 - rng.random::<f64>();
                (u.powf(1.0 / p.popularity.powf(0.7)), i)
            })
            .collect();
        keys.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)));
        for &(_, product) in keys.iter().take(store.format.assortment()) {
            carriers[product].push(store_index);
        }
    }
    let supercenters: Vec<usize> = (0..stores.len())
        .filter(|&s| stores[s].format == Format::Supercenter)
        .collect();
    let mut next = 0;
    for stores_of_product in carriers.iter_mut().filter(|c| c.is_empty()) {
        if let Some(&store) = supercenters.get(next % supercenters.len().max(1)) {
            stores_of_product.push(store);
            next += 1;
        }
    }
    for stores_of_product in &mut carriers {
        stores_of_product.sort_unstable();
    }
    carriers
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn upc_check_digits_follow_gs1() {
        // 03600029145 -> check digit 2 (the GS1 worked example).
        assert_eq!(upc_a(36_000, 29_145), "036000291452");
    }
}
