//! The Ansible YAML inventory reader: `GROUP: {hosts: {NAME: {VARS}}, vars: {VARS},
//! children: {GROUP: ...}}` at the top (usually `all:`). The document is read in one pass by
//! `DeserializeSeed`s, so that yaml_serde attaches the line and column of the key or value
//! being read to every error: syntax errors, unknown structure keys (`host:` for `hosts:`,
//! with the nearest key) and bad variable values alike. Lists and mappings as variable values
//! become JSON text; `!vault` values are skipped (they cannot be decrypted here).

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::fmt;

use serde::Deserialize;
use serde::de::value::{EnumAccessDeserializer, MapAccessDeserializer, SeqAccessDeserializer};
use serde::de::{self, DeserializeSeed, EnumAccess, MapAccess, SeqAccess, Visitor};

use super::hostpattern::host_pattern;
use super::{Owner, Tree};
use crate::inventory::validate::{self, Env};
use crate::inventory::{Inventory, InventoryError, Location};

/// Parses an Ansible YAML inventory.
pub(super) fn parse(path: &std::path::Path, text: &str, env: Env) -> Result<Inventory, InventoryError> {
    let tree = RefCell::new(Tree::new(path, text, env));
    let failure = RefCell::new(None);
    let keys = outline(text);
    let st = St {
        tree: &tree,
        failure: &failure,
        keys: &keys,
    };
    if let Err(e) = Top(st).deserialize(yaml_serde::Deserializer::from_str(text)) {
        let message = failure
            .borrow_mut()
            .take()
            .unwrap_or_else(|| without_marks(&e.to_string()));
        let location = match e.location() {
            Some(l) => Location {
                path: path.to_path_buf(),
                line: l.line(),
                column: l.column(),
            },
            None => tree.borrow().loc(text.len()),
        };
        return Err(InventoryError::At { location, message });
    }
    tree.into_inner().finish()
}

/// yaml_serde's message without its " at line L column C" parts (the location says it).
fn without_marks(message: &str) -> String {
    match regex::Regex::new(r" at (line \d+ column \d+|position \d+)") {
        Ok(re) => re.replace_all(message, "").into_owned(),
        Err(_) => message.to_string(),
    }
}

/// Byte offsets of block-style mapping keys by path (`["all", "children", "web"]`): serde
/// gives hosts and groups no position, and this is enough to point at them. Flow mappings,
/// sequence items and block scalars are skipped.
fn outline(text: &str) -> BTreeMap<Vec<String>, usize> {
    let mut out = BTreeMap::new();
    let mut stack: Vec<(usize, String)> = Vec::new();
    let mut scalar_indent: Option<usize> = None;
    let mut offset = 0;
    for line in text.split_inclusive('\n') {
        let start = offset;
        offset += line.len();
        let body = line.trim_start_matches(' ');
        let indent = line.len() - body.len();
        let content = body.trim_end();
        if content.is_empty() || content.starts_with('#') || scalar_indent.is_some_and(|i| indent > i) {
            continue;
        }
        scalar_indent = None;
        let Some((key, rest)) = split_key(content) else {
            continue;
        };
        while stack.last().is_some_and(|(i, _)| *i >= indent) {
            stack.pop();
        }
        stack.push((indent, key));
        out.entry(stack.iter().map(|(_, k)| k.clone()).collect())
            .or_insert(start + indent);
        if rest.trim_start().starts_with(['|', '>']) {
            scalar_indent = Some(indent);
        }
    }
    out
}

/// `key: rest` (plain or quoted key) of a block mapping line.
fn split_key(content: &str) -> Option<(String, &str)> {
    if content.starts_with(['-', '{', '[', '?', '&', '*', '!']) {
        return None;
    }
    if let Some(q) = content.chars().next().filter(|c| matches!(c, '"' | '\'')) {
        let end = content[1..].find(q)? + 1;
        let rest = content[end + 1..].strip_prefix(':')?;
        return (rest.is_empty() || rest.starts_with(' ')).then(|| (content[1..end].to_string(), rest));
    }
    let colon = content.find(": ").or_else(|| content.strip_suffix(':').map(str::len))?;
    Some((content[..colon].trim_end().to_string(), &content[colon + 1..]))
}

/// The shared state of the seeds: the tree being built and our own error message.
#[derive(Clone, Copy)]
struct St<'s, 'a> {
    tree: &'s RefCell<Tree<'a>>,
    failure: &'s RefCell<Option<String>>,
    keys: &'s BTreeMap<Vec<String>, usize>,
}

impl St<'_, '_> {
    /// Where the key at `path` is written (the document start if the outline missed it).
    fn at(&self, path: &[String]) -> Location {
        self.tree.borrow().loc(self.keys.get(path).copied().unwrap_or(0))
    }

    /// An error whose message is ours; yaml_serde adds the location.
    fn fail<E: de::Error>(&self, message: String) -> E {
        *self.failure.borrow_mut() = Some(message);
        E::custom("inventory error")
    }
}

/// Implements `DeserializeSeed` by `deserialize_any` for a seed that is its own visitor.
macro_rules! seed_by_any {
    ($t:ident) => {
        impl<'de> DeserializeSeed<'de> for $t<'_, '_> {
            type Value = <Self as Visitor<'de>>::Value;
            fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
                d.deserialize_any(self)
            }
        }
    };
}

/// The document: a mapping of top-level groups.
struct Top<'s, 'a>(St<'s, 'a>);
seed_by_any!(Top);

impl<'de> Visitor<'de> for Top<'_, '_> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a mapping of groups, like `all:`")
    }
    fn visit_unit<E>(self) -> Result<(), E> {
        Ok(())
    }
    fn visit_none<E>(self) -> Result<(), E> {
        Ok(())
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        while let Some(name) = map.next_key_seed(Name(self.0, "group"))? {
            map.next_value_seed(Group {
                st: self.0,
                path: vec![name],
                parent: None,
            })?;
        }
        Ok(())
    }
}

/// A host or group name, checked.
struct Name<'s, 'a>(St<'s, 'a>, &'static str);
seed_by_any!(Name);

impl<'de> Visitor<'de> for Name<'_, '_> {
    type Value = String;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        write!(f, "a {} name", self.1)
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<String, E> {
        match validate::name(v) {
            Ok(()) => Ok(v.to_string()),
            Err(reason) => Err(self.0.fail(format!("invalid {} name: {reason}", self.1))),
        }
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<String, E> {
        self.visit_str(&v.to_string())
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<String, E> {
        self.visit_str(&v.to_string())
    }
}

/// A key of a group: `hosts`, `vars` or `children`.
struct Key<'s, 'a>(St<'s, 'a>, &'s str);
seed_by_any!(Key);

const GROUP_KEYS: [&str; 3] = ["hosts", "vars", "children"];

impl<'de> Visitor<'de> for Key<'_, '_> {
    type Value = &'static str;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("hosts, vars or children")
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<&'static str, E> {
        match GROUP_KEYS.iter().find(|k| **k == v) {
            Some(k) => Ok(k),
            None => {
                let hint = validate::hint(v, GROUP_KEYS);
                Err(self.0.fail(format!("unknown key {v:?} in group {}{hint}", self.1)))
            }
        }
    }
}

/// A group's body (or nothing), at `path` in the document.
struct Group<'s, 'a> {
    st: St<'s, 'a>,
    path: Vec<String>,
    parent: Option<String>,
}
seed_by_any!(Group);

impl<'de> Visitor<'de> for Group<'_, '_> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        write!(f, "group {} as a mapping of hosts, vars and children", self.name())
    }
    fn visit_unit<E>(self) -> Result<(), E> {
        self.register();
        Ok(())
    }
    fn visit_none<E>(self) -> Result<(), E> {
        self.register();
        Ok(())
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        let at = self.register();
        let (st, name) = (self.st, self.name());
        while let Some(key) = map.next_key_seed(Key(st, name))? {
            let path = [self.path.as_slice(), &[key.to_string()]].concat();
            match key {
                "hosts" => map.next_value_seed(Hosts { st, group: name, path })?,
                "vars" => map.next_value_seed(Vars(st, vec![Owner::Group(name.to_string())], at.clone(), path))?,
                _ => map.next_value_seed(Children { st, parent: name, path })?,
            }
        }
        Ok(())
    }
}

impl Group<'_, '_> {
    fn name(&self) -> &str {
        self.path.last().map_or("all", String::as_str)
    }

    fn register(&self) -> Location {
        let at = self.st.at(&self.path);
        let mut tree = self.st.tree.borrow_mut();
        match &self.parent {
            Some(parent) => tree.add_child(parent, self.name(), &at),
            None => tree.declare(self.name(), &at),
        }
        at
    }
}

/// A group's `hosts:` mapping.
struct Hosts<'s, 'a> {
    st: St<'s, 'a>,
    group: &'s str,
    path: Vec<String>,
}
seed_by_any!(Hosts);

impl<'de> Visitor<'de> for Hosts<'_, '_> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        write!(f, "the hosts of group {} as a mapping", self.group)
    }
    fn visit_unit<E>(self) -> Result<(), E> {
        Ok(())
    }
    fn visit_none<E>(self) -> Result<(), E> {
        Ok(())
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        while let Some((key, names, port)) = map.next_key_seed(HostKey(self.st))? {
            let path = [self.path.as_slice(), &[key]].concat();
            let at = self.st.at(&path);
            let mut tree = self.st.tree.borrow_mut();
            for name in &names {
                tree.add_host(name, self.group, &at);
                if let Some(port) = port {
                    let owner = Owner::Host(name.clone());
                    tree.apply(&owner, "ansible_port", &port.to_string(), &at)
                        .map_err(|m| self.st.fail::<A::Error>(m))?;
                }
            }
            drop(tree);
            let owners = names.into_iter().map(Owner::Host).collect();
            map.next_value_seed(Vars(self.st, owners, at, path))?;
        }
        Ok(())
    }
}

/// A host key: a name or a range (`web[1:3]`), maybe with `:port`.
struct HostKey<'s, 'a>(St<'s, 'a>);
seed_by_any!(HostKey);

impl<'de> Visitor<'de> for HostKey<'_, '_> {
    type Value = (String, Vec<String>, Option<u16>);
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a host name or range")
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
        match host_pattern(v) {
            Ok((names, port)) => Ok((v.to_string(), names, port)),
            Err(message) => Err(self.0.fail(message)),
        }
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Self::Value, E> {
        self.visit_str(&v.to_string())
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Self::Value, E> {
        self.visit_str(&v.to_string())
    }
}

/// A group's `children:` mapping.
struct Children<'s, 'a> {
    st: St<'s, 'a>,
    parent: &'s str,
    path: Vec<String>,
}
seed_by_any!(Children);

impl<'de> Visitor<'de> for Children<'_, '_> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        write!(f, "the children of group {} as a mapping", self.parent)
    }
    fn visit_unit<E>(self) -> Result<(), E> {
        Ok(())
    }
    fn visit_none<E>(self) -> Result<(), E> {
        Ok(())
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        while let Some(name) = map.next_key_seed(Name(self.st, "group"))? {
            let path = [self.path.as_slice(), &[name]].concat();
            map.next_value_seed(Group {
                st: self.st,
                path,
                parent: Some(self.parent.to_string()),
            })?;
        }
        Ok(())
    }
}

/// The variables of a host or group (or nothing): its owners, where the owner is written
/// and the path of the mapping (for where each variable is written).
struct Vars<'s, 'a>(St<'s, 'a>, Vec<Owner>, Location, Vec<String>);
seed_by_any!(Vars);

impl<'de> Visitor<'de> for Vars<'_, '_> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        write!(f, "the variables of {} as a mapping", Owners(&self.1))
    }
    fn visit_unit<E>(self) -> Result<(), E> {
        Ok(())
    }
    fn visit_none<E>(self) -> Result<(), E> {
        Ok(())
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        while let Some(key) = map.next_key::<String>()? {
            let path = [self.3.as_slice(), std::slice::from_ref(&key)].concat();
            let at = match self.0.keys.get(&path) {
                Some(offset) => self.0.tree.borrow().loc(*offset),
                None => self.2.clone(),
            };
            map.next_value_seed(Var {
                st: self.0,
                owners: &self.1,
                key: &key,
                at: &at,
            })?;
        }
        Ok(())
    }
}

/// The owners of a variable for messages: the first one (a range's first host).
struct Owners<'o>(&'o [Owner]);

impl fmt::Display for Owners<'_> {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        match self.0.first() {
            Some(owner) => owner.fmt(f),
            None => f.write_str("nothing"),
        }
    }
}

/// One variable's value, applied to its owners as soon as it is read.
struct Var<'s, 'a> {
    st: St<'s, 'a>,
    owners: &'s [Owner],
    key: &'s str,
    at: &'s Location,
}
seed_by_any!(Var);

impl Var<'_, '_> {
    fn set<E: de::Error>(&self, value: &str) -> Result<(), E> {
        let mut tree = self.st.tree.borrow_mut();
        for owner in self.owners {
            let result = tree.apply(owner, self.key, value, self.at);
            result.map_err(|m| self.st.fail(m))?;
        }
        Ok(())
    }

    /// Lists and mappings are kept as JSON text.
    fn set_value<E: de::Error>(&self, value: yaml_serde::Value) -> Result<(), E> {
        let text = serde_json::to_string(&value)
            .or_else(|_| yaml_serde::to_string(&value).map(|y| y.trim_end().to_string()))
            .map_err(|e| {
                self.st.fail(format!(
                    "unsupported value for {} of {}: {e}",
                    self.key,
                    Owners(self.owners)
                ))
            })?;
        self.set(&text)
    }
}

impl<'de> Visitor<'de> for Var<'_, '_> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        write!(f, "a value for {} of {}", self.key, Owners(self.owners))
    }
    fn visit_unit<E: de::Error>(self) -> Result<(), E> {
        self.set("")
    }
    fn visit_none<E: de::Error>(self) -> Result<(), E> {
        self.set("")
    }
    fn visit_bool<E: de::Error>(self, v: bool) -> Result<(), E> {
        self.set(&v.to_string())
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<(), E> {
        self.set(&v.to_string())
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<(), E> {
        self.set(&v.to_string())
    }
    fn visit_f64<E: de::Error>(self, v: f64) -> Result<(), E> {
        self.set(&v.to_string())
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<(), E> {
        self.set(v)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<(), A::Error> {
        self.set_value(yaml_serde::Value::deserialize(SeqAccessDeserializer::new(seq))?)
    }
    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<(), A::Error> {
        self.set_value(yaml_serde::Value::deserialize(MapAccessDeserializer::new(map))?)
    }
    fn visit_enum<A: EnumAccess<'de>>(self, data: A) -> Result<(), A::Error> {
        match yaml_serde::Value::deserialize(EnumAccessDeserializer::new(data))? {
            yaml_serde::Value::Tagged(t) if t.tag == "vault" => Ok(()),
            yaml_serde::Value::Tagged(t) => match t.value {
                yaml_serde::Value::String(s) => self.set(&s),
                other => self.set_value(other),
            },
            other => self.set_value(other),
        }
    }
}
