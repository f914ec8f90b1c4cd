//! placeholder
pub struct ValueIndex;
