//! Numbers JSON cannot hold. serde_json writes NaN and the infinities as `null`, which a report may
//! carry (a fit on very little data has an unbounded interval, a price without a currency is NaN);
//! reading such a report back (the page does, from the worker's JSON) turns `null` into NaN here
//! instead of failing. Used as `#[serde(deserialize_with = "...")]`, so writing is unchanged.

use serde::{Deserialize, Deserializer};

pub fn f64_or_nan<'de, D: Deserializer<'de>>(deserializer: D) -> Result<f64, D::Error> {
    Option::<f64>::deserialize(deserializer).map(|value| value.unwrap_or(f64::NAN))
}

pub fn vec_or_nan<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Vec<f64>, D::Error> {
    Vec::<Option<f64>>::deserialize(deserializer).map(|values| values.into_iter().map(nan_if_none).collect())
}

pub fn array_or_nan<'de, D: Deserializer<'de>, const N: usize>(deserializer: D) -> Result<[f64; N], D::Error>
where
    [Option<f64>; N]: Deserialize<'de>,
{
    <[Option<f64>; N]>::deserialize(deserializer).map(|values| values.map(nan_if_none))
}

pub fn optional_array_or_nan<'de, D: Deserializer<'de>, const N: usize>(
    deserializer: D,
) -> Result<Option<[f64; N]>, D::Error>
where
    [Option<f64>; N]: Deserialize<'de>,
{
    Option::<[Option<f64>; N]>::deserialize(deserializer).map(|values| values.map(|values| values.map(nan_if_none)))
}

pub fn matrix_or_nan<'de, D: Deserializer<'de>>(deserializer: D) -> Result<[[f64; 2]; 2], D::Error> {
    <[[Option<f64>; 2]; 2]>::deserialize(deserializer).map(|rows| rows.map(|row| row.map(nan_if_none)))
}

fn nan_if_none(value: Option<f64>) -> f64 {
    value.unwrap_or(f64::NAN)
}
