//! The HTML document served for every page, the router, and the frame around pages.

use crate::pages::audit::AuditPage;
use crate::pages::cluster::ClusterPage;
use crate::pages::dashboard::Dashboard;
use crate::pages::discover::DiscoverPage;
use crate::pages::problems::ProblemsPage;
use crate::pages::search::SearchPage;
use crate::pages::status::StatusPage;
use leptos::prelude::*;
use leptos_meta::{provide_meta_context, MetaTags, Stylesheet, Title};
use leptos_router::components::{Form, Route, Router, Routes, A};
use leptos_router::hooks::use_query_map;
use leptos_router::path;

/// The whole document; the server renders it, the browser hydrates `App` inside it.
pub fn shell(options: LeptosOptions) -> impl IntoView {
    view! {
        <!DOCTYPE html>
        <html lang="en">
            <head>
                <meta charset="utf-8"/>
                <meta name="viewport" content="width=device-width, initial-scale=1"/>
                <meta name="color-scheme" content="light dark"/>
                <HydrationScripts options/>
                <MetaTags/>
            </head>
            <body>
                <App/>
            </body>
        </html>
    }
}

#[component]
pub fn App() -> impl IntoView {
    provide_meta_context();
    // Effects run only in the browser: this attribute tells tests (and CSS) that the page is live.
    Effect::new(move |_| {
        #[cfg(feature = "hydrate")]
        if let Some(body) = web_sys::window().and_then(|w| w.document()).and_then(|d| d.body()) {
            let _ = body.set_attribute("data-hydrated", "true");
        }
    });
    view! {
        <Stylesheet id="main" href="/pkg/orchestrator.css"/>
        <Title text="orchestrator"/>
        <Router>
            <TopBar/>
            <main>
                <Routes fallback=|| view! { <p class="empty">"Page not found."</p> }>
                    <Route path=path!("/") view=Dashboard/>
                    <Route path=path!("/cluster/:name") view=ClusterPage/>
                    <Route path=path!("/problems") view=ProblemsPage/>
                    <Route path=path!("/audit") view=AuditPage/>
                    <Route path=path!("/recoveries") view=crate::pages::recoveries::RecoveriesPage/>
                    <Route path=path!("/discover") view=DiscoverPage/>
                    <Route path=path!("/search") view=SearchPage/>
                    <Route path=path!("/status") view=StatusPage/>
                    <Route path=path!("/bench/graph") view=crate::graph::bench::GraphBench/>
                </Routes>
            </main>
        </Router>
    }
}

/// Navigation and the search box (a GET form to `/search`, so it works before hydration too).
#[component]
fn TopBar() -> impl IntoView {
    let query = use_query_map();
    let current = move || query.with(|q| q.get("q").unwrap_or_default());
    view! {
        <header class="topbar">
            <A href="/" attr:class="brand">"orchestrator"</A>
            <nav aria-label="Main">
                <A href="/" exact=true>"Clusters"</A>
                <A href="/problems">"Problems"</A>
                <A href="/recoveries">"Recoveries"</A>
                <A href="/audit">"Audit"</A>
                <A href="/discover">"Discover"</A>
                <A href="/status">"Status"</A>
            </nav>
            <Form action="/search" method="get" attr:class="search" attr:role="search">
                <input type="search" name="q" value=current placeholder="Search host, alias, cluster"
                    aria-label="Search servers by host, alias or cluster"/>
            </Form>
        </header>
    }
}
