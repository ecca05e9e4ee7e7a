//! The two facts the host reads from an X.509 certificate itself (RFC 5280 §4.1): the subject, as text for apps and
//! logs ("C=US, ST=CA, O=Open vSwitch, CN=br0"), and the validity period, to refuse an expired certificate of its
//! own at start. rustls and webpki check peers' certificates; they expose neither of these.

/// What the host reads from a certificate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CertificateFacts {
    /// The subject's attributes, OpenSSL's one-line form without spaces around `=`.
    pub subject: String,
    /// Not valid before, seconds since the Unix epoch.
    pub not_before: i64,
    /// Not valid after, seconds since the Unix epoch.
    pub not_after: i64,
}

/// One DER element: its tag and content.
struct Element<'a> {
    tag: u8,
    content: &'a [u8],
}

/// Splits the first DER element off `input`.
fn element(input: &[u8]) -> Option<(Element<'_>, &[u8])> {
    let (&tag, rest) = input.split_first()?;
    let (&first, rest) = rest.split_first()?;
    let (length, rest) = if first < 0x80 {
        (usize::from(first), rest)
    } else {
        let count = usize::from(first & 0x7f);
        if count == 0 || count > 4 || rest.len() < count {
            return None;
        }
        let length = rest[..count].iter().fold(0usize, |acc, &b| acc << 8 | usize::from(b));
        (length, &rest[count..])
    };
    if rest.len() < length {
        return None;
    }
    Some((Element { tag, content: &rest[..length] }, &rest[length..]))
}

const SEQUENCE: u8 = 0x30;
const SET: u8 = 0x31;
const OID: u8 = 0x06;
const CONTEXT_0: u8 = 0xa0;
const UTC_TIME: u8 = 0x17;
const GENERALIZED_TIME: u8 = 0x18;

/// Reads the subject and validity of a DER certificate; `None` if it is not one.
pub fn read(der: &[u8]) -> Option<CertificateFacts> {
    let (certificate, _) = element(der)?;
    let (tbs, _) = element(certificate.content)?;
    let mut fields = tbs.content;
    let (first, rest) = element(fields)?;
    // An explicit version comes first in v2 and v3 certificates.
    fields = if first.tag == CONTEXT_0 { element(rest)?.1 } else { rest };
    let (_signature, rest) = element(fields)?;
    let (_issuer, rest) = element(rest)?;
    let (validity, rest) = element(rest)?;
    let (subject, _) = element(rest)?;
    let (not_before, rest) = element(validity.content)?;
    let (not_after, _) = element(rest)?;
    if validity.tag != SEQUENCE || subject.tag != SEQUENCE {
        return None;
    }
    Some(CertificateFacts {
        subject: name_text(subject.content)?,
        not_before: time(&not_before)?,
        not_after: time(&not_after)?,
    })
}

/// A Name's RDNs, in order, as "SHORT=value, ...".
fn name_text(mut rdns: &[u8]) -> Option<String> {
    let mut parts = Vec::new();
    while !rdns.is_empty() {
        let (set, rest) = element(rdns)?;
        rdns = rest;
        if set.tag != SET {
            return None;
        }
        let mut attributes = set.content;
        while !attributes.is_empty() {
            let (attribute, rest) = element(attributes)?;
            attributes = rest;
            let (oid, rest) = element(attribute.content)?;
            let (value, _) = element(rest)?;
            if oid.tag != OID {
                return None;
            }
            let value = String::from_utf8_lossy(value.content);
            parts.push(format!("{}={value}", attribute_name(oid.content)));
        }
    }
    Some(parts.join(", "))
}

/// The short name of an attribute type, or its dotted OID.
fn attribute_name(oid: &[u8]) -> String {
    // 2.5.4.x, the X.520 attributes, are 55 04 x.
    match oid {
        [0x55, 0x04, 3] => "CN".to_owned(),
        [0x55, 0x04, 5] => "serialNumber".to_owned(),
        [0x55, 0x04, 6] => "C".to_owned(),
        [0x55, 0x04, 7] => "L".to_owned(),
        [0x55, 0x04, 8] => "ST".to_owned(),
        [0x55, 0x04, 10] => "O".to_owned(),
        [0x55, 0x04, 11] => "OU".to_owned(),
        [0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x09, 0x01] => "emailAddress".to_owned(),
        _ => dotted(oid),
    }
}

fn dotted(oid: &[u8]) -> String {
    let mut arcs: Vec<u64> = Vec::new();
    let mut value = 0u64;
    for &byte in oid {
        value = value << 7 | u64::from(byte & 0x7f);
        if byte & 0x80 == 0 {
            if arcs.is_empty() {
                let first = (value / 40).min(2);
                arcs.extend([first, value - first * 40]);
            } else {
                arcs.push(value);
            }
            value = 0;
        }
    }
    arcs.iter().map(u64::to_string).collect::<Vec<_>>().join(".")
}

/// A UTCTime or GeneralizedTime ("YYMMDDHHMMSSZ" or "YYYYMMDDHHMMSSZ") as Unix seconds.
fn time(element: &Element<'_>) -> Option<i64> {
    let text = std::str::from_utf8(element.content).ok()?;
    let digits = text.strip_suffix('Z')?;
    let number = |range: std::ops::Range<usize>| digits.get(range)?.parse::<i64>().ok();
    let (year, rest) = match element.tag {
        UTC_TIME if digits.len() == 12 => {
            let yy = number(0..2)?;
            (if yy < 50 { 2000 + yy } else { 1900 + yy }, 2)
        }
        GENERALIZED_TIME if digits.len() == 14 => (number(0..4)?, 4),
        _ => return None,
    };
    let (month, day) = (number(rest..rest + 2)?, number(rest + 2..rest + 4)?);
    let (hour, minute, second) =
        (number(rest + 4..rest + 6)?, number(rest + 6..rest + 8)?, number(rest + 8..rest + 10)?);
    Some(days_from_civil(year, month, day) * 86_400 + hour * 3_600 + minute * 60 + second)
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let year = if month <= 2 { year - 1 } else { year };
    let era = year.div_euclid(400);
    let year_of_era = year - era * 400;
    let day_of_year = (153 * (month + if month > 2 { -3 } else { 9 }) + 2) / 5 + day - 1;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    era * 146_097 + day_of_era - 719_468
}

/// Unix seconds as "2026-12-01 17:54:50 UTC".
pub fn format_time(seconds: i64) -> String {
    let (days, rest) = (seconds.div_euclid(86_400), seconds.rem_euclid(86_400));
    // The inverse of `days_from_civil`.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let day_of_era = z - era * 146_097;
    let year_of_era = (day_of_era - day_of_era / 1_460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let mp = (5 * day_of_year + 2) / 153;
    let day = day_of_year - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = year_of_era + era * 400 + i64::from(month <= 2);
    format!("{year:04}-{month:02}-{day:02} {:02}:{:02}:{:02} UTC", rest / 3_600, rest % 3_600 / 60, rest % 60)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_convert_both_ways() {
        assert_eq!(days_from_civil(1970, 1, 1), 0);
        assert_eq!(days_from_civil(2000, 3, 1), 11_017);
        assert_eq!(format_time(0), "1970-01-01 00:00:00 UTC");
        assert_eq!(format_time(951_782_400 + 3_723), "2000-02-29 01:02:03 UTC");
        assert_eq!(dotted(&[0x55, 0x04, 0x2a]), "2.5.4.42");
    }

    #[test]
    fn garbage_is_not_a_certificate() {
        assert_eq!(read(&[]), None);
        assert_eq!(read(&[0x30, 0x82, 0xff]), None);
        assert_eq!(read(&[0x30, 0x03, 0x30, 0x01, 0x00]), None);
    }
}
