//! Per-host state kept by the layers above the host session (the facts cache, the MySQL
//! session), by type: the session holds it without depending on those layers, and each
//! layer reaches its own state with [`Scope::get`].

use std::any::{Any, TypeId};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use futures::future::BoxFuture;

/// State a layer keeps on a host. `close` runs when the pool closes (a run-scoped MySQL
/// session ends its connection there); most state has nothing to close.
pub trait Resource: Any + Send + Sync {
    /// Ends what the state holds open, bounded by the implementation.
    fn close(&self) -> BoxFuture<'_, ()> {
        Box::pin(async {})
    }
}

/// One value per type, created on first use.
#[derive(Default)]
pub struct Scope {
    values: Mutex<HashMap<TypeId, Arc<dyn Any + Send + Sync>>>,
    closers: Mutex<Vec<Arc<dyn Resource>>>,
}

impl std::fmt::Debug for Scope {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Scope").finish_non_exhaustive()
    }
}

impl Scope {
    /// The scope's `T`, created with `T::default()` the first time.
    pub fn get<T: Resource + Default>(&self) -> Arc<T> {
        let mut values = self.values.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(v) = values.get(&TypeId::of::<T>())
            && let Ok(v) = v.clone().downcast::<T>()
        {
            return v;
        }
        let v = Arc::new(T::default());
        values.insert(TypeId::of::<T>(), v.clone());
        self.closers.lock().unwrap_or_else(|e| e.into_inner()).push(v.clone());
        v
    }

    /// Closes every value of the scope (each bounded by its own `close`), together.
    pub async fn close(&self) {
        let closers: Vec<_> = self.closers.lock().unwrap_or_else(|e| e.into_inner()).clone();
        futures::future::join_all(closers.iter().map(|c| c.close())).await;
    }
}
