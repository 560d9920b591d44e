/*NeuroChat loader, see docs/WIDGET.md*/
(function(w,d){if(w.NeuroChat&&w.NeuroChat.v)return
var s=d.currentScript||d.querySelector('script[src*="neurochat.js"]'),S={},k,g=w.NeuroChatSettings||{},q=[],api,busy,N=w.NeuroChat={v:1},src=s?s.src:d.baseURI,st
for(k in g)S[k]=g[k]
if(s)for(k in s.dataset)S[k]=s.dataset[k]
S.server=S.server||new URL(src).origin
function load(){if(!busy){busy=1;import(new URL('__NEUROCHAT_GLUE__',src).href).then(function(m){return m.default().then(function(){m.boot(S,q);api=m.call})}).catch(function(e){busy=0;console.error('NeuroChat',e)})}}
'open1 close0 toggle1 identify1 logout1 on0 setLocale0'.split(' ').forEach(function(m){var n=m.slice(0,-1)
N[n]=function(){var a=[].slice.call(arguments);return new Promise(function(y,r){api?api(n,a,y,r):(q.push([n,a,y,r]),+m.slice(-1)&&load())})}})
function mount(){if(d.getElementById('neurochat-root'))return
var h=d.createElement('div'),r,b,c,x='http://www.w3.org/2000/svg',v=d.createElementNS(x,'svg'),p=d.createElementNS(x,'path')
h.id='neurochat-root';d.body.appendChild(h);r=h.attachShadow({mode:'open'})
try{c=new CSSStyleSheet();c.replaceSync(':host{all:initial!important'+(/^[#\w(),.% -]{1,64}$/.test(S.color)?';--nc-primary:'+S.color:'')+'}button{position:fixed;bottom:20px;'+(S.position=='left'?'left':'right')+':20px;z-index:var(--nc-z,2147483000);min-width:56px;height:56px;padding:0 16px;display:flex;align-items:center;gap:8px;border:0;border-radius:28px;background:var(--nc-primary,#2563eb);color:#fff;cursor:pointer}svg{width:26px;fill:currentColor}span{font:14px system-ui,sans-serif}');r.adoptedStyleSheets=[c]}catch(e){}
b=d.createElement('button');b.className='nc-launcher';b.type='button';b.setAttribute('aria-label','Open chat');b.setAttribute('aria-expanded','false')
v.setAttribute('viewBox','0 0 24 24');p.setAttribute('d','M4 4h16a2 2 0 0 1 2 2v10a2 2 0 0 1-2 2H9l-5 4v-4a2 2 0 0 1-2-2V6a2 2 0 0 1 2-2z')
v.appendChild(p);b.appendChild(v);if(S.launcherText){x=d.createElement('span');x.className='nc-launcher-text';x.textContent=S.launcherText;b.appendChild(x)}b.onclick=function(){N.toggle()};r.appendChild(b)}
d.body?mount():d.addEventListener('DOMContentLoaded',mount)
try{st=localStorage.getItem('neurochat:'+new URL(S.server).origin+':session')}catch(e){}
S.open===true||S.open=='true'?load():(S.load=='idle'||st)&&(w.requestIdleCallback||setTimeout)(load)})(window,document)
