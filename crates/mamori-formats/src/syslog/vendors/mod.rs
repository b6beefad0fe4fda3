//! Vendor shapes recognised inside syslog messages (and, for FortiGate, in
//! key=value lines). Each module's doc has a table of what it maps.
//!
//! | module          | recognised by                                              |
//! |-----------------|------------------------------------------------------------|
//! | [`asa`]         | a message starting `%ASA-n-nnnnnn:` (also `%FTD-`, `%PIX-`, `%FWSM-`) |
//! | [`ios`]         | a message `%FAC-n-MNEMONIC:` (after an optional IOS prefix ending in `:`) |
//! | [`paloalto`]    | PAN-OS CSV: `…,yyyy/mm/dd hh:mm:ss,serial,TYPE,…`             |
//! | [`checkpoint`]  | Check Point `[key:"value"; …]` messages                    |
//! | [`snare`]       | tag `MSWinEventLog` (Windows events from Snare, NXLog)     |
//! | [`sshd`]        | app name `sshd`                                            |
//! | [`linux`]       | app name `sudo`, `su`, `useradd`, … ; `pam_x(service:type):` from any app |
//! | [`filterlog`]   | app name `filterlog` (pfSense / OPNsense packet filter CSV) |
//! | [`junos`]       | an RFC 5424 `junos@2636.…` structured-data element (SRX `RT_FLOW_…`) |
//! | [`netfilter`]   | `IN=… OUT=… SRC=…` (iptables / nftables `LOG`, UFW, firewalld) |
//! | [`fortigate`]   | key=value pairs with `devname`/`devid` and `logid`         |

pub mod asa;
pub mod checkpoint;
pub mod filterlog;
pub mod fortigate;
pub mod ios;
pub mod junos;
pub mod linux;
pub mod netfilter;
pub mod paloalto;
pub mod snare;
pub mod sshd;

use mamori_model::Event;

use crate::fieldmap::{set_ip, set_port, set_str};

/// Set `<side>.ip` (or `<side>.address` when not an IP), `<side>.port`
/// (when a number) and the observer interface of `side`.
pub(crate) fn endpoint(ev: &mut Event, side: &str, iface: Option<&str>, addr: &str, port: Option<&str>) {
    if !set_ip(ev, &format!("{side}.ip"), addr) {
        set_str(ev, &format!("{side}.address"), addr);
    }
    if let Some(p) = port {
        set_port(ev, &format!("{side}.port"), p);
    }
    if let Some(i) = iface {
        let dir = if side == "source" { "ingress" } else { "egress" };
        set_str(ev, &format!("observer.{dir}.interface.name"), i);
    }
}

/// The event a vendor's `map` makes of `msg`, asserting that it read it
/// (for the vendor modules' tests).
#[cfg(test)]
pub(crate) fn mapped(map: fn(&mut Event, &str) -> bool, msg: &str) -> Event {
    let mut ev = Event::new("t", chrono::Utc::now(), msg);
    assert!(map(&mut ev, msg), "{msg}");
    ev
}
