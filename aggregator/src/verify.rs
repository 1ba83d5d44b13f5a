//! Signature verification in batches: every signature on one message is checked at once with
//! [`verify_batch`] (random 64-bit coefficients, one pairing check). A batch that fails is split
//! in halves until each bad signature is isolated, so one forger costs `O(log n)` extra batch
//! checks and never makes the good signatures beside it fail.

use std::collections::HashMap;

use alloy::primitives::B256;
use surety_primitives::{PublicKey, Signature, verify_batch};

/// One signature to check: the 32-byte message, the key and the signature.
#[derive(Debug, Clone, Copy)]
pub struct Item {
    pub message: B256,
    pub public_key: PublicKey,
    pub signature: Signature,
}

/// Counters of one [`verify_all`] call.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Work {
    /// `verify_batch` calls (including the single-signature checks bisection ends in).
    pub batch_checks: u64,
    /// Signatures found invalid.
    pub invalid: u64,
}

/// Whether each item's signature is valid, in `items`' order.
pub fn verify_all(items: &[Item]) -> (Vec<bool>, Work) {
    let mut groups: HashMap<B256, Vec<usize>> = HashMap::new();
    for (i, item) in items.iter().enumerate() {
        groups.entry(item.message).or_default().push(i);
    }
    let mut valid = vec![false; items.len()];
    let mut work = Work::default();
    for (message, indices) in groups {
        check(&message.0, items, &indices, &mut valid, &mut work);
    }
    (valid, work)
}

fn check(
    message: &[u8; 32],
    items: &[Item],
    indices: &[usize],
    valid: &mut [bool],
    work: &mut Work,
) {
    let keys: Vec<PublicKey> = indices.iter().map(|&i| items[i].public_key).collect();
    let signatures: Vec<Signature> = indices.iter().map(|&i| items[i].signature).collect();
    work.batch_checks += 1;
    if verify_batch(message, &keys, &signatures) {
        for &i in indices {
            valid[i] = true;
        }
    } else if indices.len() == 1 {
        work.invalid += 1;
    } else {
        let (left, right) = indices.split_at(indices.len() / 2);
        check(message, items, left, valid, work);
        check(message, items, right, valid, work);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use surety_primitives::SecretKey;

    fn items(n: usize, message: B256) -> Vec<Item> {
        (0..n)
            .map(|i| {
                let key = SecretKey::from_ikm(&[u8::try_from(i).unwrap() + 1; 32]);
                Item {
                    message,
                    public_key: key.public_key(),
                    signature: key.sign(&message.0),
                }
            })
            .collect()
    }

    #[test]
    fn good_batches_take_one_check_per_message() {
        let mut all = items(16, B256::repeat_byte(1));
        all.extend(items(8, B256::repeat_byte(2)));
        let (valid, work) = verify_all(&all);
        assert!(valid.iter().all(|v| *v));
        assert_eq!(
            work,
            Work {
                batch_checks: 2,
                invalid: 0
            }
        );
    }

    #[test]
    fn bisection_attributes_each_bad_signature() {
        let message = B256::repeat_byte(1);
        let mut all = items(32, message);
        // A signature on another message, and a swapped pair (each valid for the other key).
        all[5].signature = items(1, B256::repeat_byte(9))[0].signature;
        let (a, b) = (all[20].signature, all[21].signature);
        all[20].signature = b;
        all[21].signature = a;
        let (valid, work) = verify_all(&all);
        for (i, v) in valid.iter().enumerate() {
            assert_eq!(*v, ![5, 20, 21].contains(&i), "item {i}");
        }
        assert_eq!(work.invalid, 3);
        // Far fewer checks than one per signature.
        assert!(work.batch_checks < 32, "{work:?}");
    }
}
