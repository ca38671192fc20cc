//! What bookkeeping connectors read: the change feed ([`events`]), booking packages
//! ([`bookings`]), search by any reference ([`search`]) and the VAT return ([`vat_return`]).

pub mod bookings;
pub mod events;
pub mod search;
pub mod vat_return;
