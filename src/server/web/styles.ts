/**
 * The stylesheet of every page, served as `/static/css/app.css`. Colours, font and radius come only
 * from the theme's custom properties (09 §3), which the layout sets in its one nonce'd block.
 */
export const APP_CSS = `*,*::before,*::after{box-sizing:border-box}
html{-webkit-text-size-adjust:100%}
body{margin:0;font-family:var(--agnes-font);background:var(--agnes-bg);color:var(--agnes-text);line-height:1.5;font-size:15px}
a{color:var(--agnes-primary-dark)}
:focus-visible{outline:3px solid var(--agnes-primary);outline-offset:2px}
.skip{position:absolute;left:-999px;top:0;background:var(--agnes-surface);padding:.5rem 1rem;z-index:10}
.skip:focus{left:.5rem}
header.top{background:var(--agnes-surface);border-bottom:1px solid var(--agnes-border)}
.bar{max-width:1200px;margin:0 auto;padding:.6rem 1rem;display:flex;flex-wrap:wrap;align-items:center;gap:.5rem 1.25rem}
.brand{display:flex;align-items:baseline;gap:.6rem;text-decoration:none;color:var(--agnes-text)}
.brand strong{font-size:1.15rem}.brand span{color:var(--agnes-text-muted);font-size:.85rem}
nav.main{flex:1;min-width:0}
nav.main ul{list-style:none;margin:0;padding:0;display:flex;flex-wrap:wrap;gap:.25rem}
nav.main a{display:block;padding:.35rem .6rem;border-radius:var(--agnes-radius);text-decoration:none;color:var(--agnes-text)}
nav.main a[aria-current=page]{background:var(--agnes-primary-light);color:var(--agnes-primary-dark);font-weight:600}
nav.main a:hover{background:var(--agnes-bg)}
.user{display:flex;align-items:center;gap:.5rem;flex-wrap:wrap}
.user form{margin:0}
.user .who{color:var(--agnes-text-muted);font-size:.85rem;overflow-wrap:anywhere}
.bell{position:relative;display:inline-flex;align-items:center;padding:.3rem .4rem;border-radius:var(--agnes-radius);color:var(--agnes-text);text-decoration:none}
.bell:hover{background:var(--agnes-bg)}.bell svg{fill:currentColor}
.bell-count{min-width:1.2rem;margin-left:.15rem;padding:0 .35rem;border-radius:999px;background:var(--agnes-error);color:var(--agnes-surface);font-size:.72rem;font-weight:600;text-align:center;line-height:1.2rem}
tr.unread td:first-child{font-weight:600}
tr[data-notification-id] button{white-space:nowrap}
main{max-width:1200px;margin:0 auto;padding:1.5rem 1rem 3rem}
.card>form{margin-bottom:1rem}
main.narrow{max-width:30rem;margin:3rem auto;background:var(--agnes-surface);border:1px solid var(--agnes-border);border-radius:var(--agnes-radius);padding:2rem}
footer.bottom{border-top:1px solid var(--agnes-border);color:var(--agnes-text-muted);font-size:.85rem}
footer.bottom .bar{justify-content:space-between}
h1{font-size:1.5rem;margin:0 0 1rem;overflow-wrap:anywhere}
h2{font-size:1.15rem;margin:0 0 .75rem}
h3{font-size:1rem;margin:1rem 0 .5rem}
.muted{color:var(--agnes-text-muted)}
.text{white-space:pre-line;overflow-wrap:anywhere}
.grid{display:grid;gap:1rem;grid-template-columns:repeat(auto-fit,minmax(min(100%,18rem),1fr))}
.card{background:var(--agnes-surface);border:1px solid var(--agnes-border);border-radius:var(--agnes-radius);padding:1rem 1.25rem;margin-bottom:1rem;min-width:0}
.stat{font-size:1.6rem;font-weight:600}
label{display:block;font-weight:500;margin:.75rem 0 .25rem}
label.inline{display:inline-flex;align-items:center;gap:.4rem;font-weight:400;margin:.5rem 1rem .25rem 0}
input,select,textarea{font:inherit;color:inherit;background:var(--agnes-surface);border:1px solid var(--agnes-border);border-radius:var(--agnes-radius);padding:.45rem .6rem;max-width:100%}
input[type=text],input[type=email],input[type=password],input[type=search],input[type=number],select,textarea{width:100%}
input[type=checkbox]{width:auto}
textarea{font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;min-height:4rem}
#sql{min-height:10rem}
.row{display:flex;flex-wrap:wrap;gap:.5rem 1rem;align-items:end}
.row>*{flex:1 1 12rem;min-width:0}
.row>.shrink{flex:0 0 auto}
button,.button{display:inline-block;font:inherit;padding:.5rem 1rem;border-radius:var(--agnes-radius);border:1px solid var(--agnes-primary);background:var(--agnes-primary);color:#fff;cursor:pointer;text-decoration:none;margin-top:.75rem}
button:hover,button:focus-visible,.button:hover{background:var(--agnes-primary-dark)}
button.secondary,.button.secondary{background:var(--agnes-surface);color:var(--agnes-primary-dark)}
button.secondary:hover{background:var(--agnes-primary-light)}
button.danger{background:var(--agnes-surface);border-color:var(--agnes-error);color:var(--agnes-error)}
button.small,.button.small{padding:.2rem .6rem;margin:0;font-size:.85rem}
button:disabled{opacity:.6;cursor:progress}
.user button{margin:0}
.table-wrap{overflow-x:auto;max-width:100%}
table{border-collapse:collapse;width:100%;background:var(--agnes-surface)}
th,td{text-align:left;padding:.45rem .6rem;border-bottom:1px solid var(--agnes-border);vertical-align:top;overflow-wrap:break-word}
.table-wrap table{min-width:40rem}
.table-wrap table.compact{min-width:0}
th{font-weight:600;background:var(--agnes-bg)}
td.num,th.num{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}
td form{margin:0;display:inline}
.badge{display:inline-block;padding:0 .45rem;border-radius:999px;font-size:.78rem;border:1px solid var(--agnes-border);background:var(--agnes-bg);white-space:nowrap}
.badge.ok{border-color:var(--agnes-success);color:var(--agnes-success)}
.badge.warn{border-color:var(--agnes-warning);color:var(--agnes-warning)}
.badge.err{border-color:var(--agnes-error);color:var(--agnes-error)}
.notice{border-left:4px solid var(--agnes-primary);background:var(--agnes-primary-light);padding:.6rem .9rem;border-radius:var(--agnes-radius);margin:.75rem 0}
.notice.error,.status.error{border-left-color:var(--agnes-error);background:var(--agnes-surface);color:var(--agnes-error)}
.status:empty{display:none}
.status{margin:.5rem 0;padding:.4rem .75rem;border-left:4px solid var(--agnes-success);background:var(--agnes-surface)}
pre,code{font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;font-size:.88rem}
pre{background:var(--agnes-bg);border:1px solid var(--agnes-border);border-radius:var(--agnes-radius);padding:.6rem .8rem;overflow-x:auto;white-space:pre-wrap;overflow-wrap:anywhere;margin:.4rem 0}
.commands li{margin-bottom:.6rem}
.copyable{display:flex;gap:.5rem;align-items:center}.copyable pre{flex:1;min-width:0;margin:0}.copyable button{margin:0}
dl.facts{display:grid;grid-template-columns:repeat(auto-fill,minmax(9rem,1fr));gap:.5rem 1rem;margin:.75rem 0}dl.facts dd{margin:0;overflow-wrap:anywhere}dl.facts dt{font-size:.85rem}
.commands{padding-left:1.25rem}
.secret{font-weight:600;overflow-wrap:anywhere}
details{border:1px solid var(--agnes-border);border-radius:var(--agnes-radius);padding:.4rem .75rem;margin:.4rem 0;background:var(--agnes-surface)}
summary{cursor:pointer}
svg.hist{max-width:100%;height:auto;display:block}
svg.hist rect{fill:var(--agnes-primary)}
svg.pct{vertical-align:middle}svg.pct rect.track{fill:var(--agnes-border)}svg.pct rect.fill{fill:var(--agnes-success)}
.null{color:var(--agnes-text-muted);font-style:italic}
.sql-layout{display:grid;grid-template-columns:16rem minmax(0,1fr);gap:1rem}.sql-layout>*{min-width:0}
.sql-layout aside ul{list-style:none;padding:0;margin:0}
.sql-layout aside li button{background:none;border:0;color:var(--agnes-primary-dark);padding:.15rem 0;margin:0;text-align:left;overflow-wrap:anywhere}
.results{max-height:32rem;overflow:auto}
.results th{position:sticky;top:0}
.lock{font-size:.85rem}
.pagination{display:flex;gap:1rem;margin-top:.75rem}
[hidden]{display:none!important}
ul.tags{list-style:none;padding:0;margin:.5rem 0;display:flex;flex-wrap:wrap;gap:.3rem}
.memory .meta{margin:.25rem 0 .5rem}.memory h3{margin:0 0 .25rem;overflow-wrap:anywhere}
.votes{display:flex;flex-wrap:wrap;align-items:center;gap:.4rem}.votes .score{font-weight:600;min-width:2rem}
.votes button[aria-pressed=true]{background:var(--agnes-primary);color:#fff}
nav.tabs{display:flex;flex-wrap:wrap;gap:.5rem}nav.tabs a{padding:.3rem .7rem;border-radius:var(--agnes-radius);text-decoration:none}
nav.tabs a[aria-current=page]{background:var(--agnes-primary-light);color:var(--agnes-primary-dark);font-weight:600}
section.stats{grid-template-columns:repeat(auto-fit,minmax(min(100%,8rem),1fr));margin-bottom:1rem}section.stats .card{margin:0}
form.govern{margin-top:.5rem}form.govern button{margin:.5rem .4rem 0 0}
@media (max-width:720px){nav.main{order:3;flex-basis:100%}nav.main a{padding:.25rem .5rem}.sql-layout{grid-template-columns:minmax(0,1fr)}main.narrow{margin:1rem;padding:1.25rem}.bar{padding:.5rem .75rem}main{padding:1rem .75rem 2rem}}
`;
