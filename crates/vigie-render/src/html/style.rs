//! The report's stylesheet, inline in the page. System fonts only (nothing to fetch);
//! colours keep their meaning across the drawings: red compromised, amber still exposed,
//! green out of reach after the plan, slate what the plan takes away, gold crown jewels,
//! blue the optimal plan. A print block lays one incident per page.

pub const CSS: &str = r#"
:root{--ink:#1c2430;--muted:#5b6675;--line:#dde2e8;--bg:#f5f7fa;--card:#fff;--accent:#1d4ed8;
--red:#c62828;--red-bg:#fdecea;--amber:#d97706;--amber-bg:#fff4e0;--green:#2e7d32;--green-bg:#e9f5ea;
--slate:#475569;--slate-bg:#eef1f5;--gold:#b98900;--plan:#2563eb;--isolate:#94a3b8;
font-family:"Segoe UI","Helvetica Neue",Arial,"Liberation Sans","DejaVu Sans",sans-serif}
*{box-sizing:border-box}
body{margin:0;background:var(--bg);color:var(--ink);font-size:14px;line-height:1.45}
.mono,code{font-family:ui-monospace,"SFMono-Regular",Menlo,Consolas,"Liberation Mono","DejaVu Sans Mono",monospace;font-size:.92em}
.masthead{display:flex;gap:18px;align-items:center;padding:18px 32px;background:#0f1b2d;color:#fff}
.masthead h1{margin:0;font-size:21px;font-weight:600;letter-spacing:.2px}
.masthead .sub{color:#b8c4d6;font-size:13px;margin-top:2px}
.brand{font-weight:800;font-size:15px;letter-spacing:3px;text-transform:uppercase;padding:8px 12px;border:2px solid #f4b400;color:#f4b400;border-radius:6px}
main{max-width:1400px;margin:0 auto;padding:20px 28px 40px}
section{background:var(--card);border:1px solid var(--line);border-radius:10px;padding:18px 24px 22px;margin:0 0 22px;box-shadow:0 1px 2px rgba(15,27,45,.05)}
h2{margin:0 0 14px;font-size:19px;display:flex;gap:12px;align-items:center;flex-wrap:wrap}
h3{margin:24px 0 10px;font-size:15px;color:#0f1b2d;border-bottom:1px solid var(--line);padding-bottom:5px}
p{margin:8px 0}
.muted{color:var(--muted)}
.note{color:var(--muted);font-size:12.5px;font-style:italic}
.empty{color:var(--muted);background:var(--slate-bg);border-radius:6px;padding:10px 14px}
.kpis{display:flex;gap:12px;flex-wrap:wrap;margin-bottom:16px}
.kpi{flex:1 1 140px;border:1px solid var(--line);border-radius:8px;padding:10px 14px;background:#fbfcfe}
.kpi .kv{font-size:24px;font-weight:700}
.kpi .kl{color:var(--muted);font-size:12px;text-transform:uppercase;letter-spacing:.5px}
.grid-table{border-collapse:collapse;width:100%;font-size:13px;margin:6px 0}
.grid-table th{text-align:left;font-weight:600;color:var(--muted);font-size:11.5px;text-transform:uppercase;letter-spacing:.4px;border-bottom:2px solid var(--line);padding:6px 8px}
.grid-table td{border-bottom:1px solid var(--line);padding:6px 8px;vertical-align:top;overflow-wrap:anywhere}
.grid-table tbody tr:nth-child(even){background:#fafbfd}
.num,.grid-table th.num{text-align:right;white-space:nowrap}
.nowrap{white-space:nowrap}
.grid-table ul{margin:0;padding-left:18px}
.sev{display:inline-block;white-space:nowrap;font-size:11px;font-weight:700;text-transform:uppercase;letter-spacing:.5px;padding:2px 8px;border-radius:10px;background:var(--slate-bg);color:var(--slate)}
.sev.critical{background:#7f1d1d;color:#fff}.sev.high{background:var(--red-bg);color:var(--red)}
.sev.medium{background:var(--amber-bg);color:#92400e}.sev.low{background:#e0f2fe;color:#075985}
.facts{display:grid;grid-template-columns:160px 1fr;gap:6px 16px;margin:0}
.facts dt{color:var(--muted);font-weight:600}.facts dd{margin:0}
.risk{font-size:18px;font-weight:700}
.chip{display:inline-block;border:1px solid var(--line);border-radius:4px;padding:0 6px;margin:1px 4px 1px 0;font-family:ui-monospace,Menlo,Consolas,"Liberation Mono",monospace;font-size:12px;background:#fbfcfe}
.chip.compromised{border-color:#f1b0aa;background:var(--red-bg);color:var(--red)}
.figures{display:flex;gap:14px;flex-wrap:wrap;margin:6px 0 10px}
.figure{flex:1 1 220px;border-radius:8px;padding:12px 16px;border:1px solid var(--line)}
.figure .fl{font-size:12px;text-transform:uppercase;letter-spacing:.5px;color:var(--muted);font-weight:600}
.figure .fv{font-size:26px;font-weight:700;margin:2px 0}
.figure .fu{font-size:12px;color:var(--muted)}
.figure.plan{border-color:#bfd3fb;background:#eff5ff}.figure.plan .fv{color:var(--plan)}
.figure.isolate{background:#f6f7f9}.figure.isolate .fv{color:var(--slate)}
.figure.ratio{border-color:#b9dfbd;background:var(--green-bg)}.figure.ratio .fv{color:var(--green)}
.ok{color:var(--green);font-weight:600}.warn{color:var(--amber);font-weight:600}
.tactics{display:flex;flex-wrap:wrap;gap:3px;list-style:none;padding:0;margin:6px 0 14px}
.tactics li{font-size:11px;padding:6px 14px 6px 16px;background:var(--slate-bg);color:#94a3b8;clip-path:polygon(0 0,calc(100% - 8px) 0,100% 50%,calc(100% - 8px) 100%,0 100%,8px 50%)}
.tactics li:first-child{clip-path:polygon(0 0,calc(100% - 8px) 0,100% 50%,calc(100% - 8px) 100%,0 100%)}
.tactics li.on{background:#0f1b2d;color:#fff;font-weight:600}
.timeline{list-style:none;margin:0;padding:0;border-left:2px solid var(--line);margin-left:190px}
.timeline li{position:relative;padding:6px 0 10px 18px}
.timeline .when{position:absolute;left:-190px;width:175px;text-align:right;color:var(--muted);font-size:12.5px;top:7px}
.timeline .dot{position:absolute;left:-7px;top:10px;width:12px;height:12px;border-radius:50%;background:var(--red);border:2px solid #fff;box-shadow:0 0 0 1px var(--red)}
.legend{list-style:none;display:flex;flex-wrap:wrap;gap:4px 18px;padding:0;margin:4px 0 8px;font-size:12px;color:var(--muted)}
.legend li{display:flex;align-items:center;gap:6px}
.sw{display:inline-block;width:16px;height:11px;border-radius:3px;border:1.5px solid}
.sw-compromised{background:var(--red-bg);border-color:var(--red)}.sw-exposed{background:var(--amber-bg);border-color:var(--amber)}
.sw-protected{background:var(--green-bg);border-color:var(--green)}.sw-removed{background:var(--slate-bg);border-color:var(--slate);border-style:dashed}
.sw-crown{background:#fff;border-color:var(--gold);border-width:2.5px}
.sw-live{height:0;border-width:1.5px 0 0;border-color:var(--amber)}.sw-cut{height:0;border-width:2px 0 0;border-color:var(--red);border-style:dashed}
.sw-plan{background:var(--plan);border-color:var(--plan)}.sw-isolate{background:var(--isolate);border-color:var(--isolate)}
.sw-rebuild{background:#e57373;border-color:#c62828}.sw-restore{background:#7aa7e8;border-color:#3b6fc2}
.sw-service{background:#7e57c2;border-color:#5e35b1;transform:rotate(45deg);width:10px;height:10px}.sw-segment{background:#26a69a;border-color:#00897b;width:10px;height:10px}
.scroll{overflow-x:auto;border:1px solid var(--line);border-radius:8px;background:#fcfdfe;padding:6px}
.scroll svg.fit{max-width:100%;height:auto;display:block}
.jewels .mono{white-space:nowrap}
svg text{font-family:"Segoe UI","Helvetica Neue",Arial,"Liberation Sans","DejaVu Sans",sans-serif}
.attack-graph .colcap{font-size:11px;fill:var(--muted);text-anchor:middle;text-transform:uppercase;letter-spacing:.6px;font-weight:600}
.gnode .box{fill:#fff;stroke:#9aa5b1;stroke-width:1.3}
.gnode.compromised .box{fill:var(--red-bg);stroke:var(--red);stroke-width:2}
.gnode.exposed .box{fill:var(--amber-bg);stroke:var(--amber)}
.gnode.protected .box{fill:var(--green-bg);stroke:var(--green)}
.gnode.removed .box{fill:var(--slate-bg);stroke:var(--slate);stroke-dasharray:5 3;stroke-width:1.6}
.gnode.removed.compromised .box{fill:var(--red-bg);stroke:var(--red)}
.gnode .ring{fill:none;stroke:var(--gold);stroke-width:2.5}
.gnode .nid{font-size:12px;font-weight:700;fill:var(--ink)}
.gnode.crown .nid{fill:#7a5a00}
.gnode .nsub{font-size:10.5px;fill:var(--muted)}
.gnode .nh{font-size:10.5px;fill:var(--muted);text-anchor:end}
.gnode .badge rect{fill:var(--slate)}.gnode .badge text{fill:#fff;font-size:9.5px;font-weight:700;text-anchor:middle;letter-spacing:.6px}
.gedge{fill:none;stroke-width:1.3}
.gedge.idle{stroke:#b8c0ca}.gedge.live{stroke:var(--amber);stroke-width:1.6}
.gedge.cut{stroke:var(--red);stroke-width:1.8;stroke-dasharray:6 4}
.gedge.back.idle{stroke-opacity:.5}
.arrow.idle path{fill:#b8c0ca}.arrow.live path{fill:var(--amber)}.arrow.cut path{fill:var(--red)}
.cutmark circle{fill:#fff;stroke:var(--red);stroke-width:1.5}.cutmark path{stroke:var(--red);stroke-width:1.8;fill:none}
.chart .grid{stroke:#e6e9ee;stroke-width:1}.chart .tick{font-size:10.5px;fill:var(--muted);text-anchor:middle}
.chart .seglabel,.chart .glabel{font-size:12px;fill:var(--ink);text-anchor:end}
.chart .glabel.service{fill:#4527a0}.chart .glabel.segment{fill:#00695c}
.chart .val{font-size:11px;fill:var(--muted)}
.chart .val.none{font-style:italic}
.bar.plan{fill:var(--plan)}.bar.isolate{fill:var(--isolate)}
.gbar.rebuild{fill:#e57373;stroke:#c62828}.gbar.restore{fill:#7aa7e8;stroke:#3b6fc2}
.gwait{stroke:#c9b8ea;stroke-width:1.5;stroke-dasharray:3 3}.grestart{fill:#b39ddb}
.gmile.service{fill:#7e57c2;stroke:#fff;stroke-width:1}.gmile.segment{fill:#26a69a;stroke:#fff;stroke-width:1}
.gsep{stroke:var(--line)}
.fields{font-size:12px;font-family:ui-monospace,Menlo,Consolas,"Liberation Mono",monospace}
.fields .fk{color:var(--accent)}
.src{font-size:11.5px;color:var(--muted)}
details summary{cursor:pointer;font-weight:600;color:var(--muted);margin:4px 0}
.notif h4{margin:16px 0 8px;font-size:13px;text-transform:uppercase;letter-spacing:.5px;color:#0f1b2d}
.notif h4 .muted{text-transform:none;letter-spacing:0;font-weight:400;margin-left:6px}
.aware{margin:4px 0 10px}
.deadlines{list-style:none;display:grid;grid-template-columns:repeat(auto-fit,minmax(230px,1fr));gap:10px;padding:0;margin:6px 0 4px}
.deadlines li{border:1px solid #f0c27b;border-left:5px solid var(--amber);background:var(--amber-bg);border-radius:8px;padding:9px 14px}
.deadlines li.gdpr{border-color:#c7b8ea;border-left-color:#6d28d9;background:#f4f0fd}
.deadlines .dl{display:block;font-size:11.5px;text-transform:uppercase;letter-spacing:.5px;color:#92400e;font-weight:700}
.deadlines li.gdpr .dl{color:#5b21b6}
.deadlines .dd{display:block;font-size:16px;font-weight:700;margin:2px 0}
.deadlines .ds{display:block;font-size:11.5px;color:var(--muted);line-height:1.35}
.unknown{color:var(--red);font-style:italic}
.ngrid{display:grid;grid-template-columns:minmax(0,1fr) minmax(0,1fr);gap:14px;margin-top:6px}
.nbox{border:1px solid var(--line);border-radius:8px;padding:2px 16px 10px;background:#fbfcfe}
.nbox h4{margin-top:10px}
.nfacts{display:grid;grid-template-columns:140px 1fr;gap:4px 12px;margin:0 0 8px}
.nfacts dt{color:var(--muted);font-weight:600}.nfacts dd{margin:0}
.grid-table.compact{font-size:12.5px}.grid-table.compact td,.grid-table.compact th{padding:4px 8px}
.state{white-space:nowrap;font-size:11px;font-weight:700;text-transform:uppercase;letter-spacing:.4px}
.state.down{color:var(--red)}.state.degraded{color:#92400e}
.flags{list-style:none;margin:0;padding:0}
.flags>li{padding:6px 0 8px;border-bottom:1px solid var(--line)}.flags>li:last-child{border-bottom:none}
.flags .fh{font-weight:600}
.flags .why{margin:3px 0 0 46px;padding:0;font-size:12.5px;color:var(--muted);list-style:none;overflow-wrap:anywhere}
.flags ul.why li{margin:1px 0}
.yn{display:inline-block;width:36px;text-align:center;font-size:11px;font-weight:700;text-transform:uppercase;border-radius:4px;padding:1px 0;margin-right:6px}
.yn.yes{background:var(--red-bg);color:var(--red)}.yn.no{background:var(--green-bg);color:var(--green)}
.stages{display:flex;flex-direction:column;gap:10px}
.stage{border:1px solid var(--line);border-radius:8px;overflow:hidden}
.stage .sh{display:flex;flex-wrap:wrap;gap:4px 12px;align-items:baseline;background:var(--slate-bg);padding:7px 14px;border-bottom:1px solid var(--line)}
.stage .sn{display:inline-block;width:20px;height:20px;border-radius:50%;background:#0f1b2d;color:#fff;font-size:11.5px;font-weight:700;text-align:center;line-height:20px}
.stage .st{font-weight:700}
.todo-count,.done-count{margin-left:auto;font-size:11px;font-weight:700;text-transform:uppercase;letter-spacing:.4px;padding:1px 8px;border-radius:10px}
.todo-count{background:var(--amber-bg);color:#92400e;border:1px solid #f0c27b}.done-count{background:var(--green-bg);color:var(--green)}
.items{list-style:none;margin:0;padding:0}
.items li{display:grid;grid-template-columns:minmax(200px,30%) 1fr;gap:12px;padding:6px 14px;border-bottom:1px solid var(--line);font-size:13px}
.items li:last-child{border-bottom:none}
.items .il{font-weight:600;display:flex;gap:8px;align-items:baseline}
.items .iv{overflow-wrap:anywhere}
.items li.open{background:#fffaf0}
.filled-mark{color:var(--green);font-weight:700}
span.box{display:inline-block;flex:none;width:11px;height:11px;border:1.5px solid var(--amber);border-radius:2px;background:#fff}
.todo{display:inline-block;font-size:11px;font-weight:700;text-transform:uppercase;letter-spacing:.4px;color:#92400e;background:var(--amber-bg);border:1px dashed var(--amber);border-radius:4px;padding:0 6px;margin:0 2px}
.items .todo{margin:0 8px 0 0}
.hint{color:var(--muted);font-style:italic}
@media (max-width:900px){.ngrid{grid-template-columns:1fr}}
.path{font-size:12px;color:var(--muted)}
a{color:var(--accent);text-decoration:none}a:hover{text-decoration:underline}
footer{display:flex;flex-wrap:wrap;gap:6px 24px;color:var(--muted);font-size:11.5px;padding:8px 4px;font-family:ui-monospace,Menlo,Consolas,"Liberation Mono",monospace}
@media print{
 @page{size:A4 landscape;margin:10mm}
 body{background:#fff;font-size:11.5px}
 main{max-width:none;padding:0}
 .masthead{background:#fff;color:#000;border-bottom:2px solid #000;padding:0 0 8px}
 .masthead .sub{color:#333}
 section{box-shadow:none;border:none;padding:0;margin:0 0 12px}
 section.incident{break-before:page}
 .scroll{overflow:visible;border:none;padding:0}
 .scroll svg{max-width:100%;height:auto}
 tr,.figure,.deadlines li,.scroll,.nbox,.items li{break-inside:avoid}
 .ngrid{grid-template-columns:1fr 1fr}
 h2,h3,.legend{break-after:avoid}
 *{-webkit-print-color-adjust:exact;print-color-adjust:exact}
}
"#;
