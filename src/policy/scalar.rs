//! Scalars of condition values: numbers, dates, booleans, CIDRs.

use core::net::IpAddr;

use super::keys::TextBuf;

/// A decimal number: `-?digits(.digits)?` (no exponent, no `inf`/`NaN`, which Rust's
/// float parser would otherwise accept).
pub(crate) fn parse_number(s: &str) -> Option<f64> {
    let body = s.strip_prefix('-').unwrap_or(s);
    let (int, frac) = match body.split_once('.') {
        Some((i, f)) => (i, Some(f)),
        None => (body, None),
    };
    let digits = |d: &str| !d.is_empty() && d.bytes().all(|b| b.is_ascii_digit());
    if !digits(int) || frac.is_some_and(|f| !digits(f)) {
        return None;
    }
    s.parse::<f64>().ok().filter(|f| f.is_finite())
}

/// `true`/`false` in any ASCII case.
pub(crate) fn parse_bool(s: &str) -> Option<bool> {
    if s.eq_ignore_ascii_case("true") {
        Some(true)
    } else if s.eq_ignore_ascii_case("false") {
        Some(false)
    } else {
        None
    }
}

fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

fn civil_from_days(z: i64) -> (i64, i64, i64) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (if m <= 2 { y + 1 } else { y }, m, d)
}

fn is_leap(y: i64) -> bool {
    (y % 4 == 0 && y % 100 != 0) || y % 400 == 0
}

fn num(s: &str, len: usize) -> Option<i64> {
    if s.len() != len || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.parse().ok()
}

/// A date as epoch milliseconds: epoch seconds (digits, optionally with a fraction), or
/// ISO 8601 `YYYY-MM-DD`, `YYYY-MM-DDThh:mm[:ss[.fff]]` followed by `Z` or `±hh:mm`
/// (or `±hhmm`); a date without a time is midnight UTC.
pub(crate) fn parse_date(s: &str) -> Option<i64> {
    if !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit() || b == b'.') {
        let secs = parse_number(s)?;
        if secs > 1.0e13 {
            return None;
        }
        return Some((secs * 1000.0) as i64);
    }
    let date = s.get(..10)?;
    let (y, m, d) = (
        num(date.get(..4)?, 4)?,
        num(date.get(5..7)?, 2)?,
        num(date.get(8..10)?, 2)?,
    );
    if date.as_bytes().get(4) != Some(&b'-') || date.as_bytes().get(7) != Some(&b'-') {
        return None;
    }
    let mdays = [
        31,
        if is_leap(y) { 29 } else { 28 },
        31,
        30,
        31,
        30,
        31,
        31,
        30,
        31,
        30,
        31,
    ];
    if !(1..=12).contains(&m) || d < 1 || d > *mdays.get((m - 1) as usize)? {
        return None;
    }
    let days = days_from_civil(y, m, d);
    let rest = s.get(10..)?;
    if rest.is_empty() {
        return Some(days * 86_400_000);
    }
    let rest = rest.strip_prefix('T').or_else(|| rest.strip_prefix('t'))?;
    // Split the time from its zone designator.
    let zpos = rest.find(['Z', 'z', '+', '-'])?;
    let (time, zone) = (rest.get(..zpos)?, rest.get(zpos..)?);
    let (hm, secs) = match time.len() {
        5 => (time, None),
        n if n >= 8 => (time.get(..5)?, Some(time.get(6..)?)),
        _ => return None,
    };
    if hm.as_bytes().get(2) != Some(&b':') {
        return None;
    }
    let (h, mi) = (num(hm.get(..2)?, 2)?, num(hm.get(3..5)?, 2)?);
    let mut ms = 0i64;
    if let Some(sec) = secs {
        if time.as_bytes().get(5) != Some(&b':') {
            return None;
        }
        let (whole, frac) = match sec.split_once('.') {
            Some((w, f)) => (w, Some(f)),
            None => (sec, None),
        };
        let sv = num(whole, 2)?;
        if sv > 60 {
            return None;
        }
        ms = sv * 1000;
        if let Some(f) = frac {
            if f.is_empty() || f.len() > 9 || !f.bytes().all(|b| b.is_ascii_digit()) {
                return None;
            }
            let padded = f.bytes().chain(core::iter::repeat(b'0')).take(3);
            let mut v = 0i64;
            for b in padded {
                v = v * 10 + i64::from(b - b'0');
            }
            ms += v;
        }
    }
    if h > 23 || mi > 59 {
        return None;
    }
    let offset_min = match zone {
        "Z" | "z" => 0,
        _ => {
            let sign = if zone.starts_with('-') { -1 } else { 1 };
            let z = zone.get(1..)?;
            let (zh, zm) = match z.len() {
                5 if z.as_bytes().get(2) == Some(&b':') => {
                    (num(z.get(..2)?, 2)?, num(z.get(3..)?, 2)?)
                }
                4 => (num(z.get(..2)?, 2)?, num(z.get(2..)?, 2)?),
                _ => return None,
            };
            if zh > 23 || zm > 59 {
                return None;
            }
            sign * (zh * 60 + zm)
        }
    };
    Some(days * 86_400_000 + (h * 3600 + mi * 60 - offset_min * 60) * 1000 + ms)
}

/// `YYYY-MM-DDThh:mm:ssZ` (how `${aws:CurrentTime}` is substituted).
pub(crate) fn format_iso8601(secs: u64, buf: &mut TextBuf) -> Option<&str> {
    let secs = i64::try_from(secs).ok()?;
    let (days, rem) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
    let (y, m, d) = civil_from_days(days);
    buf.format_args(format_args!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z",
        rem / 3600,
        (rem / 60) % 60,
        rem % 60
    ))
}

/// An IPv4 or IPv6 network.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Cidr {
    net: IpAddr,
    prefix: u8,
}

impl Cidr {
    /// Parses `addr/len` or a bare address (/32 or /128). Returns the network with host
    /// bits cleared, and whether any were set.
    pub(crate) fn parse(s: &str) -> Option<(Cidr, bool)> {
        let (addr, prefix) = match s.split_once('/') {
            Some((a, p)) => {
                if p.is_empty() || p.len() > 3 || !p.bytes().all(|b| b.is_ascii_digit()) {
                    return None;
                }
                (a, Some(p.parse::<u8>().ok()?))
            }
            None => (s, None),
        };
        let ip: IpAddr = addr.parse().ok()?;
        let max = if ip.is_ipv4() { 32 } else { 128 };
        let prefix = prefix.unwrap_or(max);
        if prefix > max {
            return None;
        }
        let net = mask(ip, prefix);
        Some((Cidr { net, prefix }, net != ip))
    }

    /// Whether `ip` is in this network. IPv4-mapped IPv6 clients count as IPv4; an IPv4
    /// client never matches an IPv6 network and vice versa.
    pub(crate) fn contains(&self, ip: IpAddr) -> bool {
        let ip = ip.to_canonical();
        ip.is_ipv4() == self.net.is_ipv4() && mask(ip, self.prefix) == self.net
    }
}

fn mask(ip: IpAddr, prefix: u8) -> IpAddr {
    match ip {
        IpAddr::V4(v4) => {
            let m = u32::MAX.checked_shl(32 - u32::from(prefix)).unwrap_or(0);
            IpAddr::V4((u32::from(v4) & m).into())
        }
        IpAddr::V6(v6) => {
            let m = u128::MAX.checked_shl(128 - u32::from(prefix)).unwrap_or(0);
            IpAddr::V6((u128::from(v6) & m).into())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates() {
        assert_eq!(parse_date("1970-01-01T00:00:00Z"), Some(0));
        assert_eq!(parse_date("1970-01-01"), Some(0));
        assert_eq!(parse_date("2024-02-29T12:00:00Z"), Some(1_709_208_000_000));
        assert_eq!(parse_date("1709208000"), Some(1_709_208_000_000));
        assert_eq!(
            parse_date("2024-02-29T13:00:00+01:00"),
            Some(1_709_208_000_000)
        );
        assert_eq!(parse_date("2024-02-29T12:00Z"), Some(1_709_208_000_000));
        assert_eq!(
            parse_date("2024-02-29T12:00:00.5Z"),
            Some(1_709_208_000_500)
        );
        for bad in [
            "2023-02-29",
            "2024-13-01",
            "2024-01-01T25:00:00Z",
            "2024-01-01T10:00:00",
            "x",
            "",
        ] {
            assert_eq!(parse_date(bad), None, "{bad}");
        }
        let mut b = TextBuf::new();
        assert_eq!(
            format_iso8601(1_709_208_000, &mut b),
            Some("2024-02-29T12:00:00Z")
        );
    }

    #[test]
    fn cidrs() {
        let (c, host) = Cidr::parse("10.1.2.3/8").unwrap();
        assert!(host);
        assert!(c.contains("10.9.9.9".parse().unwrap()));
        assert!(c.contains("::ffff:10.0.0.1".parse().unwrap()));
        assert!(!c.contains("11.0.0.1".parse().unwrap()));
        let (v6, _) = Cidr::parse("2001:db8::/32").unwrap();
        assert!(v6.contains("2001:db8::1".parse().unwrap()));
        assert!(!v6.contains("10.0.0.1".parse().unwrap()));
        assert!(Cidr::parse("0.0.0.0/0")
            .unwrap()
            .0
            .contains("1.2.3.4".parse().unwrap()));
        for bad in ["300.1.2.3/8", "1.2.3.4/33", "1.2.3.4/", "::/129", "abc"] {
            assert!(Cidr::parse(bad).is_none(), "{bad}");
        }
    }

    #[test]
    fn numbers() {
        assert_eq!(parse_number("-1.5"), Some(-1.5));
        for bad in ["inf", "NaN", "1e3", "", "-", "1.", ".5"] {
            assert_eq!(parse_number(bad), None, "{bad}");
        }
    }
}
