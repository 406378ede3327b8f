//! The signatures on every request: the platform's `X-ThunderPhone-Signature`, its
//! `X-ThunderPhone-Signature-V2` (what the official client's `thunderphone.webhooks.verify_signature`
//! checks), and the Standard Webhooks headers.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;
use webhook_domain::{SigningKeys, SigningSecret, Timestamp};

type HmacSha256 = Hmac<Sha256>;

pub const PLATFORM_HEADER: &str = "x-thunderphone-signature";
pub const PLATFORM_V2_HEADER: &str = "x-thunderphone-signature-v2";
pub const ID_HEADER: &str = "webhook-id";
pub const TIMESTAMP_HEADER: &str = "webhook-timestamp";
pub const SIGNATURE_HEADER: &str = "webhook-signature";

fn hmac(key: &[u8], parts: &[&[u8]]) -> [u8; 32] {
    // HMAC takes keys of any length, so this never fails.
    let mut mac = <HmacSha256 as KeyInit>::new_from_slice(key).unwrap_or_else(|_| unreachable!());
    for part in parts {
        mac.update(part);
    }
    mac.finalize().into_bytes().into()
}

/// Lowercase hex HMAC-SHA256 of the body, keyed with the secret string's UTF-8 bytes.
pub fn platform_signature(secret: &SigningSecret, body: &[u8]) -> String {
    hex::encode(hmac(secret.expose().as_bytes(), &[body]))
}

/// `t=<timestamp>,v1=<hex HMAC-SHA256 of "timestamp\nPOST\npath?query\nbody">`, keyed with the
/// secret string: it also covers the time and the target, so a receiver can refuse replays.
/// One `v1=` per secret (two during a rotation's grace period).
pub fn platform_v2_signature(
    secrets: &[&SigningSecret],
    timestamp: i64,
    path_and_query: &str,
    body: &[u8],
) -> String {
    let signed = format!("{timestamp}\nPOST\n{path_and_query}\n");
    let mut header = format!("t={timestamp}");
    for secret in secrets {
        let mac = hmac(secret.expose().as_bytes(), &[signed.as_bytes(), body]);
        header.push_str(",v1=");
        header.push_str(&hex::encode(mac));
    }
    header
}

/// `v1,<base64 HMAC-SHA256 of "id.timestamp.body">`, keyed with the base64-decoded part of the
/// secret after `whsec_`.
fn standard_signature(secret: &SigningSecret, id: &str, timestamp: i64, body: &[u8]) -> String {
    let encoded = secret
        .expose()
        .strip_prefix(SigningSecret::PREFIX)
        .unwrap_or(secret.expose());
    // Our secrets always decode; a foreign one is used as raw bytes rather than not signing.
    let key = STANDARD
        .decode(encoded)
        .unwrap_or_else(|_| encoded.as_bytes().to_vec());
    let timestamp = timestamp.to_string();
    let mac = hmac(
        &key,
        &[id.as_bytes(), b".", timestamp.as_bytes(), b".", body],
    );
    format!("v1,{}", STANDARD.encode(mac))
}

/// The signature headers of one attempt made `at` to a URL whose path and query are
/// `path_and_query`. During a rotation's grace period the V2 and Standard Webhooks headers
/// carry a signature with each secret, the new one first; the hex header, which has room for
/// one, uses the new secret.
pub fn headers(
    keys: &SigningKeys,
    at: Timestamp,
    id: &str,
    path_and_query: &str,
    body: &[u8],
) -> [(&'static str, String); 5] {
    let secrets = keys.signing_at(at);
    let timestamp = at.unix_millis().div_euclid(1000);
    [
        (PLATFORM_HEADER, platform_signature(&keys.current, body)),
        (
            PLATFORM_V2_HEADER,
            platform_v2_signature(&secrets, timestamp, path_and_query, body),
        ),
        (ID_HEADER, id.to_owned()),
        (TIMESTAMP_HEADER, timestamp.to_string()),
        (
            SIGNATURE_HEADER,
            // One per secret, space-separated.
            secrets
                .iter()
                .map(|secret| standard_signature(secret, id, timestamp, body))
                .collect::<Vec<_>>()
                .join(" "),
        ),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;
    use webhook_domain::Clock;

    #[test]
    fn the_platform_signature_is_hex_hmac_of_the_body() {
        // Known answer: HMAC-SHA256(key = "whsec_test", msg = "{}").
        let secret = SigningSecret::from_stored("whsec_test".into());
        let signature = platform_signature(&secret, b"{}");
        assert_eq!(signature.len(), 64);
        assert!(
            signature
                .chars()
                .all(|c| c.is_ascii_digit() || ('a'..='f').contains(&c))
        );
        // Computed independently: Python's hmac.new(b"whsec_test", b"{}", "sha256").hexdigest().
        assert_eq!(
            signature,
            "46bdc2a2e83964bd2695acc6a1f97162d8bafc135a071aa5cd5c99aae5481440"
        );
        assert_ne!(signature, platform_signature(&secret, b"{} "));
    }

    #[test]
    fn the_v2_signature_covers_time_target_and_body() {
        // Known answer, as thunderphone.webhooks.compute_signature("whsec_test", timestamp=1700000000,
        // method="POST", path="/hook?a=1", body=b"{}") computes it.
        let secret = SigningSecret::from_stored("whsec_test".into());
        let signature = platform_v2_signature(&[&secret], 1_700_000_000, "/hook?a=1", b"{}");
        // Computed independently with Python's hmac over b"1700000000\nPOST\n/hook?a=1\n{}".
        assert_eq!(
            signature,
            "t=1700000000,v1=11fd34df9ad3b3f14fff5244a0ee34f2ac476bfbecdd79deef7b8a1279b5be5d"
        );
        assert_ne!(
            signature,
            platform_v2_signature(&[&secret], 1_700_000_000, "/other", b"{}")
        );
    }

    #[test]
    fn the_standard_signature_matches_the_specs_own_example() {
        // The Standard Webhooks specification's published example.
        let secret = SigningSecret::from_stored("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw".into());
        let signature = standard_signature(
            &secret,
            "msg_p5jXN8AQM9LWM0D4loKWxJek",
            1_614_265_330,
            br#"{"test": 2432232314}"#,
        );
        assert_eq!(signature, "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=");
    }

    #[test]
    fn standard_webhooks_libraries_verify_our_signatures() {
        let secret = SigningSecret::generate().unwrap();
        let body = br#"{"data":{"call_id":"c_1"},"type":"call.graded"}"#;
        let now = webhook_domain::SystemClock.now();
        let headers_map = header_map(&SigningKeys::new(secret.clone()), now, body);
        let webhook = standardwebhooks::Webhook::new(secret.expose()).unwrap();
        webhook.verify(body, &headers_map).unwrap();

        let mut tampered = headers_map.clone();
        tampered.insert(ID_HEADER, "evt_other".parse().unwrap());
        assert!(webhook.verify(body, &tampered).is_err());
        assert!(webhook.verify(b"{}", &headers_map).is_err());
    }

    fn header_map(keys: &SigningKeys, at: Timestamp, body: &[u8]) -> http::HeaderMap {
        let mut map = http::HeaderMap::new();
        for (name, value) in headers(keys, at, "evt_123", "/hook", body) {
            map.insert(name, value.parse().unwrap());
        }
        map
    }

    #[test]
    fn during_a_rotation_either_secret_verifies_and_after_it_only_the_new_one() {
        use webhook_domain::PreviousSecret;
        let (old, new) = (
            SigningSecret::generate().unwrap(),
            SigningSecret::generate().unwrap(),
        );
        let now = webhook_domain::SystemClock.now();
        let keys = SigningKeys {
            current: new.clone(),
            previous: Some(PreviousSecret {
                secret: old.clone(),
                expires_at: now.checked_add(std::time::Duration::from_secs(60)).unwrap(),
            }),
        };
        let body = br#"{"data":{},"type":"webhook.test"}"#;
        let during = header_map(&keys, now, body);
        for secret in [&old, &new] {
            standardwebhooks::Webhook::new(secret.expose())
                .unwrap()
                .verify(body, &during)
                .unwrap();
        }
        let v2 = during[PLATFORM_V2_HEADER].to_str().unwrap();
        assert_eq!(v2.matches(",v1=").count(), 2, "{v2}");
        assert_eq!(
            v2,
            platform_v2_signature(&[&new, &old], now.unix_millis() / 1000, "/hook", body)
        );
        assert_eq!(
            during[SIGNATURE_HEADER]
                .to_str()
                .unwrap()
                .split(' ')
                .count(),
            2
        );
        assert_eq!(
            during[PLATFORM_HEADER].to_str().unwrap(),
            platform_signature(&new, body),
            "the hex header has the new secret"
        );

        let later = now.checked_add(std::time::Duration::from_secs(61)).unwrap();
        let after = header_map(&keys, later, body);
        assert!(
            standardwebhooks::Webhook::new(old.expose())
                .unwrap()
                .verify(body, &after)
                .is_err(),
            "the old secret has expired"
        );
        assert_eq!(
            after[PLATFORM_V2_HEADER]
                .to_str()
                .unwrap()
                .matches("v1=")
                .count(),
            1
        );
    }
}
