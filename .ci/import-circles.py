#!/usr/bin/env python3
"""No import circle between the modules of a crate (top-level modules, and their children).

Reads `crate::a::b` paths (in `use` lists too) of each source folder given, builds the module
graph and fails naming every strongly connected set of more than one module. The crate root
(`lib.rs`, `main.rs`) is left out: every module may use what the root declares.
"""
import re,os,sys
sys.setrecursionlimit(5000)
def cycles(src, depth):
    edges=set()
    for root,_,files in os.walk(src):
        for f in files:
            if not f.endswith('.rs'): continue
            rel=os.path.relpath(os.path.join(root,f),src)[:-3].split('/')
            if rel[-1]=='mod': rel=rel[:-1]
            m='::'.join(rel[:depth]) if rel and rel[0] not in ('lib','main') else 'lib'
            s=open(os.path.join(root,f)).read()
            s=re.sub(r'//[^\n]*','',s)
            for mm in re.finditer(r'crate::\{([^}]*)\}',s):
                for x in re.findall(r'(?:^|,)\s*([a-z_]+(?:::[a-z_]+)?)',mm.group(1)):
                    x='::'.join(x.split('::')[:depth])
                    if x!=m and not m.startswith(x+'::') and not x.startswith(m+'::'): edges.add((m,x))
            for x in re.findall(r'crate::([a-z_]+(?:::[a-z_]+)?)',s):
                x='::'.join(x.split('::')[:depth])
                if x!=m and not m.startswith(x+'::') and not x.startswith(m+'::'): edges.add((m,x))
    nodes=set(a for a,b in edges)|set(b for a,b in edges)
    adj={n:set() for n in nodes}
    for a,b in edges: adj[a].add(b)
    index={};low={};st=[];on=set();res=[];i=[0]
    def sc(v):
        index[v]=low[v]=i[0];i[0]+=1;st.append(v);on.add(v)
        for w in adj[v]:
            if w not in index: sc(w);low[v]=min(low[v],low[w])
            elif w in on: low[v]=min(low[v],index[w])
        if low[v]==index[v]:
            c=[]
            while True:
                w=st.pop();on.discard(w);c.append(w)
                if w==v:break
            if len(c)>1: res.append(c)
    for n in sorted(nodes):
        if n not in index: sc(n)
    return res
failed = False
for src in sys.argv[1:]:
    for depth in (1, 2):
        for circle in cycles(src, depth):
            failed = True
            print(f"import circle in {src}: {' <-> '.join(sorted(circle))}")
if failed:
    sys.exit(1)
print("no import circles in", ", ".join(sys.argv[1:]))
