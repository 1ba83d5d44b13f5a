//! Incremental Merkle-Patricia trie over a path-keyed node store.
//!
//! Every node of a committed trie is stored under its nibble path (the position in the trie,
//! not its hash), encoded as the node's canonical RLP, which already carries the references
//! (hash or inline RLP) of its children. An update resolves only the nodes on the paths of the
//! changed keys, leaves every other subtree as the reference its parent already holds, and
//! re-hashes bottom-up: the cost is proportional to what changed, not to the size of the trie.
//! Because nodes are keyed by position, a node that moves or disappears is deleted in place, so
//! the store holds exactly one live trie and never accumulates garbage.

use alloy_primitives::{B256, keccak256};
use alloy_rlp::Decodable;
use alloy_trie::{
    EMPTY_ROOT_HASH, Nibbles, TrieMask,
    nodes::{BranchNode, ExtensionNode, LeafNode, RlpNode, TrieNode},
};
use std::collections::HashSet;

use super::StateError;

/// Storage of one trie's nodes by path.
pub(crate) trait NodeStore {
    /// The RLP of the node at `path`, if any.
    fn get(&mut self, path: &Nibbles) -> Result<Option<Vec<u8>>, StateError>;
    /// Stores the RLP of the node at `path`.
    fn put(&mut self, path: &Nibbles, rlp: &[u8]) -> Result<(), StateError>;
    /// Removes the node at `path`.
    fn delete(&mut self, path: &Nibbles) -> Result<(), StateError>;
}

/// A trie node during an update: resolved nodes can change, `Stored` subtrees are untouched.
#[derive(Debug)]
enum Node {
    Empty,
    Leaf {
        key: Nibbles,
        value: Vec<u8>,
    },
    Extension {
        key: Nibbles,
        child: Box<Node>,
    },
    Branch {
        children: Box<[Node; 16]>,
    },
    /// A committed subtree at this position, known only by its parent's reference to it.
    Stored(RlpNode),
}

/// Applies `changes` (hashed key → new leaf value, `None` deletes) to the trie in `store` and
/// returns the new root hash.
pub(crate) fn update<S: NodeStore>(
    store: &mut S,
    changes: impl IntoIterator<Item = (B256, Option<Vec<u8>>)>,
) -> Result<B256, StateError> {
    let mut updater = Updater {
        store,
        loaded: HashSet::new(),
        written: HashSet::new(),
    };
    let mut root = updater.load(&Nibbles::new())?;
    for (key, value) in changes {
        let key = Nibbles::unpack(key);
        root = match value {
            Some(value) => updater.insert(root, Nibbles::new(), key, value)?,
            None => updater.remove(root, Nibbles::new(), key)?,
        };
    }
    let root_hash = match &root {
        Node::Empty => EMPTY_ROOT_HASH,
        _ => {
            let mut buf = Vec::with_capacity(128);
            let encoded = updater.commit(root, Nibbles::new(), &mut buf)?;
            // A root smaller than 32 bytes is referenced inline; the root hash is always a hash.
            encoded.as_hash().unwrap_or_else(|| keccak256(&encoded[..]))
        }
    };
    for path in updater.loaded.difference(&updater.written) {
        updater.store.delete(path)?;
    }
    Ok(root_hash)
}

/// Computes the root of a trie holding exactly `leaves` (sorted or not) without a store.
pub(crate) fn root_of(leaves: impl IntoIterator<Item = (B256, Vec<u8>)>) -> B256 {
    let mut leaves: Vec<_> = leaves.into_iter().collect();
    leaves.sort_unstable_by_key(|leaf| leaf.0);
    let mut builder = alloy_trie::HashBuilder::default();
    for (key, value) in &leaves {
        builder.add_leaf(Nibbles::unpack(key), value);
    }
    builder.root()
}

struct Updater<'s, S> {
    store: &'s mut S,
    /// Paths whose stored node was read (it may move or vanish).
    loaded: HashSet<Nibbles>,
    /// Paths written by the commit; `loaded - written` are stale and deleted.
    written: HashSet<Nibbles>,
}

impl<S: NodeStore> Updater<'_, S> {
    fn load(&mut self, path: &Nibbles) -> Result<Node, StateError> {
        let Some(rlp) = self.store.get(path)? else {
            return Ok(Node::Empty);
        };
        self.loaded.insert(*path);
        let node =
            TrieNode::decode(&mut rlp.as_slice()).map_err(|source| StateError::TrieNode {
                path: *path,
                source,
            })?;
        Ok(match node {
            TrieNode::EmptyRoot => Node::Empty,
            TrieNode::Leaf(leaf) => Node::Leaf {
                key: leaf.key,
                value: leaf.value,
            },
            TrieNode::Extension(ext) => Node::Extension {
                key: ext.key,
                child: Box::new(Node::Stored(ext.child)),
            },
            TrieNode::Branch(branch) => {
                let mut children: Box<[Node; 16]> = Box::new(std::array::from_fn(|_| Node::Empty));
                let mut stack = branch.stack.into_iter();
                for nibble in 0..16u8 {
                    if branch.state_mask.is_bit_set(nibble) {
                        let child = stack.next().ok_or(StateError::MissingNode(*path))?;
                        children[nibble as usize] = Node::Stored(child);
                    }
                }
                Node::Branch { children }
            }
        })
    }

    /// Turns a `Stored` node into its resolved form; other nodes pass through.
    fn resolve(&mut self, node: Node, path: &Nibbles) -> Result<Node, StateError> {
        match node {
            Node::Stored(_) => match self.load(path)? {
                Node::Empty => Err(StateError::MissingNode(*path)),
                resolved => Ok(resolved),
            },
            other => Ok(other),
        }
    }

    fn insert(
        &mut self,
        node: Node,
        path: Nibbles,
        key: Nibbles,
        value: Vec<u8>,
    ) -> Result<Node, StateError> {
        Ok(match self.resolve(node, &path)? {
            Node::Empty => Node::Leaf { key, value },
            Node::Leaf {
                key: leaf_key,
                value: leaf_value,
            } => {
                if leaf_key == key {
                    return Ok(Node::Leaf { key, value });
                }
                let common = leaf_key.common_prefix_length(&key);
                let mut children: Box<[Node; 16]> = Box::new(std::array::from_fn(|_| Node::Empty));
                children[leaf_key.get_unchecked(common) as usize] = Node::Leaf {
                    key: leaf_key.slice(common + 1..),
                    value: leaf_value,
                };
                children[key.get_unchecked(common) as usize] = Node::Leaf {
                    key: key.slice(common + 1..),
                    value,
                };
                wrap_in_extension(key.slice(..common), Node::Branch { children })
            }
            Node::Extension {
                key: ext_key,
                child,
            } => {
                let common = ext_key.common_prefix_length(&key);
                if common == ext_key.len() {
                    let child =
                        self.insert(*child, path.join(&ext_key), key.slice(common..), value)?;
                    return Ok(Node::Extension {
                        key: ext_key,
                        child: Box::new(child),
                    });
                }
                let mut children: Box<[Node; 16]> = Box::new(std::array::from_fn(|_| Node::Empty));
                // The old child keeps its absolute position; only the nodes above it change.
                children[ext_key.get_unchecked(common) as usize] =
                    wrap_in_extension(ext_key.slice(common + 1..), *child);
                children[key.get_unchecked(common) as usize] = Node::Leaf {
                    key: key.slice(common + 1..),
                    value,
                };
                wrap_in_extension(key.slice(..common), Node::Branch { children })
            }
            Node::Branch { mut children } => {
                let nibble = key.get_unchecked(0);
                let child = std::mem::replace(&mut children[nibble as usize], Node::Empty);
                let mut child_path = path;
                child_path.push(nibble);
                children[nibble as usize] =
                    self.insert(child, child_path, key.slice(1..), value)?;
                Node::Branch { children }
            }
            Node::Stored(_) => unreachable!("resolved above"),
        })
    }

    fn remove(&mut self, node: Node, path: Nibbles, key: Nibbles) -> Result<Node, StateError> {
        Ok(match self.resolve(node, &path)? {
            Node::Empty => Node::Empty,
            Node::Leaf {
                key: leaf_key,
                value,
            } => {
                if leaf_key == key {
                    Node::Empty
                } else {
                    Node::Leaf {
                        key: leaf_key,
                        value,
                    }
                }
            }
            Node::Extension {
                key: ext_key,
                child,
            } => {
                if !key.starts_with(&ext_key) {
                    return Ok(Node::Extension {
                        key: ext_key,
                        child,
                    });
                }
                let child_path = path.join(&ext_key);
                let child = self.remove(*child, child_path, key.slice(ext_key.len()..))?;
                match child {
                    Node::Empty => Node::Empty,
                    // An untouched child (the key was absent) keeps the extension as it was.
                    Node::Stored(_) => Node::Extension {
                        key: ext_key,
                        child: Box::new(child),
                    },
                    child => self.prefix(ext_key, child, &child_path)?,
                }
            }
            Node::Branch { mut children } => {
                let nibble = key.get_unchecked(0);
                let child = std::mem::replace(&mut children[nibble as usize], Node::Empty);
                let mut child_path = path;
                child_path.push(nibble);
                children[nibble as usize] = self.remove(child, child_path, key.slice(1..))?;
                let mut live = (0..16).filter(|&i| !matches!(children[i], Node::Empty));
                match (live.next(), live.next()) {
                    (None, _) => Node::Empty,
                    (Some(only), None) => {
                        // A branch with one child is not canonical: merge it into its child.
                        let child = std::mem::replace(&mut children[only], Node::Empty);
                        let mut only_path = path;
                        only_path.push(only as u8);
                        self.prefix(
                            Nibbles::from_nibbles_unchecked([only as u8]),
                            child,
                            &only_path,
                        )?
                    }
                    _ => Node::Branch { children },
                }
            }
            Node::Stored(_) => unreachable!("resolved above"),
        })
    }

    /// Prepends `prefix` to `child` (located at `child_path`), keeping the trie canonical.
    fn prefix(
        &mut self,
        prefix: Nibbles,
        child: Node,
        child_path: &Nibbles,
    ) -> Result<Node, StateError> {
        Ok(match self.resolve(child, child_path)? {
            Node::Leaf { key, value } => Node::Leaf {
                key: prefix.join(&key),
                value,
            },
            Node::Extension { key, child } => Node::Extension {
                key: prefix.join(&key),
                child,
            },
            other => Node::Extension {
                key: prefix,
                child: Box::new(other),
            },
        })
    }

    /// Writes every resolved node under `path` and returns the reference to `node`.
    fn commit(
        &mut self,
        node: Node,
        path: Nibbles,
        buf: &mut Vec<u8>,
    ) -> Result<RlpNode, StateError> {
        let encoded = match node {
            Node::Stored(reference) => return Ok(reference),
            Node::Empty => return Err(StateError::MissingNode(path)),
            Node::Leaf { key, value } => {
                buf.clear();
                LeafNode::new(key, value).as_ref().rlp(buf)
            }
            Node::Extension { key, child } => {
                let child = self.commit(*child, path.join(&key), buf)?;
                buf.clear();
                ExtensionNode::new(key, child).as_ref().rlp(buf)
            }
            Node::Branch { children } => {
                let mut stack = Vec::with_capacity(16);
                let mut mask = TrieMask::default();
                for (nibble, child) in children.into_iter().enumerate() {
                    if matches!(child, Node::Empty) {
                        continue;
                    }
                    let mut child_path = path;
                    child_path.push(nibble as u8);
                    stack.push(self.commit(child, child_path, buf)?);
                    mask.set_bit(nibble as u8);
                }
                buf.clear();
                BranchNode::new(stack, mask).as_ref().rlp(buf)
            }
        };
        self.store.put(&path, buf)?;
        self.written.insert(path);
        Ok(encoded)
    }
}

fn wrap_in_extension(key: Nibbles, node: Node) -> Node {
    if key.is_empty() {
        node
    } else {
        Node::Extension {
            key,
            child: Box::new(node),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::collections::{BTreeMap, HashMap};

    #[derive(Default)]
    struct MemStore(HashMap<Nibbles, Vec<u8>>);

    impl NodeStore for MemStore {
        fn get(&mut self, path: &Nibbles) -> Result<Option<Vec<u8>>, StateError> {
            Ok(self.0.get(path).cloned())
        }
        fn put(&mut self, path: &Nibbles, rlp: &[u8]) -> Result<(), StateError> {
            self.0.insert(*path, rlp.to_vec());
            Ok(())
        }
        fn delete(&mut self, path: &Nibbles) -> Result<(), StateError> {
            self.0.remove(path);
            Ok(())
        }
    }

    /// Keys drawn from a small space so that updates hit shared prefixes and existing leaves.
    fn key(seed: u8) -> B256 {
        let mut key = keccak256([seed % 6]);
        key.0[31] = seed;
        key
    }

    proptest! {
        /// Any sequence of batched inserts and deletes yields the root a from-scratch build
        /// gives, and the store holds exactly the nodes of the current trie.
        #[test]
        fn incremental_root_equals_full_rebuild(
            batches in prop::collection::vec(
                prop::collection::vec((any::<u8>(), prop::option::of(1u8..=255)), 1..24), 1..12)
        ) {
            let mut store = MemStore::default();
            let mut model = BTreeMap::new();
            for batch in batches {
                let mut changes = BTreeMap::new();
                for (seed, value) in batch {
                    // Values of 1 byte give inline (<32 byte) nodes, longer ones hashed nodes.
                    let value = value.map(|v| vec![v; (v % 40) as usize + 1]);
                    changes.insert(key(seed), value);
                }
                for (k, v) in &changes {
                    match v {
                        Some(v) => model.insert(*k, v.clone()),
                        None => model.remove(k),
                    };
                }
                let root = update(&mut store, changes).unwrap();
                prop_assert_eq!(root, root_of(model.clone()));
                // A rebuild into a fresh store produces the same set of node paths.
                let mut fresh = MemStore::default();
                update(&mut fresh, model.iter().map(|(k, v)| (*k, Some(v.clone())))).unwrap();
                let mut live: Vec<_> = store.0.keys().copied().collect();
                let mut expected: Vec<_> = fresh.0.keys().copied().collect();
                live.sort();
                expected.sort();
                prop_assert_eq!(live, expected);
            }
        }
    }

    #[test]
    fn empty_trie_has_empty_root() {
        let mut store = MemStore::default();
        assert_eq!(
            update(&mut store, [(key(1), Some(vec![1]))]).unwrap(),
            root_of([(key(1), vec![1])])
        );
        assert_eq!(
            update(&mut store, [(key(1), None)]).unwrap(),
            EMPTY_ROOT_HASH
        );
        assert!(store.0.is_empty());
    }
}
