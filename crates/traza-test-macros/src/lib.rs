//! `#[both_backends]`: turns `async fn name(ctx: C) { … }` into two tests, `name::sqlite` and
//! `name::postgres`, so that a failure names its database and one backend's failure never
//! hides the other's result. Each calls the test crate's own `on(backend, contents, name,
//! body)` (found from the test's module, usually through `use crate::support::*`).
//!
//! `#[both_backends]` runs on a copy of the fixture network; `#[both_backends(empty)]` on a
//! copy of a migrated, empty database.

use proc_macro::TokenStream;
use quote::quote;
use syn::{Ident, ItemFn, parse_macro_input};

#[proc_macro_attribute]
pub fn both_backends(attr: TokenStream, item: TokenStream) -> TokenStream {
    let function = parse_macro_input!(item as ItemFn);
    let contents = if attr.is_empty() {
        quote!(::traza_testkit::Contents::Network)
    } else {
        let word = parse_macro_input!(attr as Ident);
        if word != "empty" {
            return syn::Error::new(word.span(), "expected `empty` or nothing")
                .to_compile_error()
                .into();
        }
        quote!(::traza_testkit::Contents::Empty)
    };
    let name = &function.sig.ident;
    let label = name.to_string();
    quote! {
        #function

        mod #name {
            #[::tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                super::on(::traza_testkit::Backend::Sqlite, #contents, #label, super::#name).await;
            }

            #[::tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                super::on(::traza_testkit::Backend::Postgres, #contents, #label, super::#name).await;
            }
        }
    }
    .into()
}
