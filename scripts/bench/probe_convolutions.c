// RN50's convolutions (224 px) through oneDNN 2.6 and through im2col + OpenBLAS, per layer and in
// total, for choosing the ResNet tower's convolution kernel (docs/BENCHMARKS.md, "ResNet towers").
// oneDNN runs on its own OpenMP team; activations channels-last (nhwc), or blocked nChw8c with
// BLOCKED=1; the residual sum and ReLU are fused. ONLY=1 skips the OpenBLAS runs (whose spinning
// threads slow the next oneDNN call when both run).
//
//   clang -O2 -o /tmp/probe_convolutions scripts/bench/probe_convolutions.c -ldnnl -lopenblas -lgomp
//   ONLY=1 /tmp/probe_convolutions BATCH THREADS
#include <oneapi/dnnl/dnnl.h>
#include <cblas.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
extern void omp_set_num_threads(int);
extern void openblas_set_num_threads(int);
typedef struct { int cin, cout, k, s, h, count; } shape;
static double now(void){struct timespec t;clock_gettime(CLOCK_MONOTONIC,&t);return t.tv_sec+t.tv_nsec*1e-9;}
#define CHECK(x) do{dnnl_status_t st=(x); if(st){printf("fail %s %d line %d\n",#x,st,__LINE__);exit(1);}}while(0)
static dnnl_engine_t eng; static dnnl_stream_t strm;
double onednn(shape sh, int n, int reps, char *impl){
  int p = sh.k/2, oh=(sh.h+2*p-sh.k)/sh.s+1;
  dnnl_memory_desc_t src, wei, dst, bia;
  dnnl_dims_t sd={n,sh.cin,sh.h,sh.h}, wd={sh.cout,sh.cin,sh.k,sh.k}, dd={n,sh.cout,oh,oh}, bd={sh.cout};
  CHECK(dnnl_memory_desc_init_by_tag(&src,4,sd,dnnl_f32,getenv("BLOCKED")?dnnl_nChw8c:dnnl_nhwc));
  CHECK(dnnl_memory_desc_init_by_tag(&wei,4,wd,dnnl_f32,dnnl_format_tag_any));
  CHECK(dnnl_memory_desc_init_by_tag(&dst,4,dd,dnnl_f32,getenv("BLOCKED")?dnnl_nChw8c:dnnl_nhwc));
  CHECK(dnnl_memory_desc_init_by_tag(&bia,1,bd,dnnl_f32,dnnl_a));
  dnnl_convolution_desc_t cd; dnnl_dims_t strides={sh.s,sh.s}, pad={p,p};
  CHECK(dnnl_convolution_forward_desc_init(&cd,dnnl_forward_inference,dnnl_convolution_direct,&src,&wei,&bia,&dst,strides,pad,pad));
  dnnl_primitive_attr_t attr; dnnl_primitive_attr_create(&attr);
  dnnl_post_ops_t po; dnnl_post_ops_create(&po); dnnl_post_ops_append_sum(po,1.0f); dnnl_post_ops_append_eltwise(po,1.0f,dnnl_eltwise_relu,0,0);
  dnnl_primitive_attr_set_post_ops(attr,po);
  dnnl_primitive_desc_t pd; CHECK(dnnl_primitive_desc_create(&pd,&cd,attr,eng,NULL));
  const char *name; dnnl_primitive_desc_query(pd,dnnl_query_impl_info_str,0,&name); strcpy(impl,name);
  const dnnl_memory_desc_t *wq = dnnl_primitive_desc_query_md(pd,dnnl_query_weights_md,0);
  dnnl_memory_t ms,mw,md,mb;
  CHECK(dnnl_memory_create(&ms,&src,eng,DNNL_MEMORY_ALLOCATE)); CHECK(dnnl_memory_create(&mw,wq,eng,DNNL_MEMORY_ALLOCATE));
  CHECK(dnnl_memory_create(&md,&dst,eng,DNNL_MEMORY_ALLOCATE)); CHECK(dnnl_memory_create(&mb,&bia,eng,DNNL_MEMORY_ALLOCATE));
  void *h; dnnl_memory_get_data_handle(ms,&h); memset(h,0,dnnl_memory_desc_get_size(&src));
  dnnl_memory_get_data_handle(mw,&h); memset(h,0,dnnl_memory_desc_get_size(wq));
  dnnl_memory_get_data_handle(md,&h); memset(h,0,dnnl_memory_desc_get_size(&dst));
  dnnl_memory_get_data_handle(mb,&h); memset(h,0,dnnl_memory_desc_get_size(&bia));
  dnnl_primitive_t prim; CHECK(dnnl_primitive_create(&prim,pd));
  dnnl_exec_arg_t args[4]={{DNNL_ARG_SRC,ms},{DNNL_ARG_WEIGHTS,mw},{DNNL_ARG_BIAS,mb},{DNNL_ARG_DST,md}};
  CHECK(dnnl_primitive_execute(prim,strm,4,args)); dnnl_stream_wait(strm);
  double t0=now(); for(int r=0;r<reps;r++){dnnl_primitive_execute(prim,strm,4,args);} dnnl_stream_wait(strm);
  double t=(now()-t0)/reps;
  dnnl_primitive_destroy(prim); dnnl_primitive_desc_destroy(pd); dnnl_memory_destroy(ms);dnnl_memory_destroy(mw);dnnl_memory_destroy(md);dnnl_memory_destroy(mb);
  return t;
}
double im2col(shape sh, int n, int reps){
  int p=sh.k/2, oh=(sh.h+2*p-sh.k)/sh.s+1, K=sh.k*sh.k*sh.cin, M=n*oh*oh;
  float *x=calloc((size_t)n*sh.h*sh.h*sh.cin,4), *col=calloc((size_t)M*K,4), *w=calloc((size_t)K*sh.cout,4), *y=calloc((size_t)M*sh.cout,4);
  double t0=0; for(int r=-1;r<reps;r++){ if(r==0)t0=now();
    const float *a=x;
    if(!(sh.k==1&&sh.s==1)){ for(int m=0;m<M;m++){int b=m/(oh*oh),pix=m%(oh*oh),oy=pix/oh,ox=pix%oh; float*d=col+(size_t)m*K;
      for(int ky=0;ky<sh.k;ky++){int iy=oy*sh.s-p+ky; for(int kx=0;kx<sh.k;kx++){int ix=ox*sh.s-p+kx; float*dd=d+(ky*sh.k+kx)*sh.cin;
        if(iy<0||iy>=sh.h||ix<0||ix>=sh.h) memset(dd,0,4*sh.cin); else memcpy(dd,x+((size_t)(b*sh.h+iy)*sh.h+ix)*sh.cin,4*sh.cin);}}} a=col;}
    cblas_sgemm(CblasRowMajor,CblasNoTrans,CblasNoTrans,M,sh.cout,K,1,a,K,w,sh.cout,0,y,sh.cout);
  }
  double t=(now()-t0)/reps; free(x);free(col);free(w);free(y); return t;
}
int main(int argc,char**argv){
  int n=atoi(argv[1]), threads=atoi(argv[2]);
  omp_set_num_threads(threads); openblas_set_num_threads(threads);
  dnnl_engine_create(&eng,dnnl_cpu,0); dnnl_stream_create(&strm,eng,dnnl_stream_default_flags);
  shape s[]={{3,32,3,2,224,1},{32,32,3,1,112,1},{32,64,3,1,112,1},
   {64,64,1,1,56,1},{64,64,3,1,56,3},{64,256,1,1,56,2},{256,64,1,1,56,2},
   {256,128,1,1,56,1},{128,128,3,1,56,1},{128,512,1,1,28,1},{256,512,1,1,28,1},{512,128,1,1,28,3},{128,128,3,1,28,3},{128,512,1,1,28,3},
   {512,256,1,1,28,1},{256,256,3,1,28,1},{256,1024,1,1,14,1},{512,1024,1,1,14,1},{1024,256,1,1,14,5},{256,256,3,1,14,5},{256,1024,1,1,14,5},
   {1024,512,1,1,14,1},{512,512,3,1,14,1},{512,2048,1,1,7,1},{1024,2048,1,1,7,1},{2048,512,1,1,7,2},{512,512,3,1,7,2},{512,2048,1,1,7,2}};
  double to=0,ti=0,fl=0; char impl[128];
  for(unsigned i=0;i<sizeof s/sizeof s[0];i++){ int reps = n==1?20:4;
    double a=onednn(s[i],n,reps,impl), b=getenv("ONLY")?1:im2col(s[i],n,reps);
    int p=s[i].k/2, oh=(s[i].h+2*p-s[i].k)/s[i].s+1; double f=2.0*n*oh*oh*s[i].cout*s[i].k*s[i].k*s[i].cin;
    to+=a*s[i].count; ti+=b*s[i].count; fl+=f*s[i].count;
    printf("%4d->%4d k%d s%d @%3d: onednn %6.1f GF/s (%s)  im2col+openblas %6.1f GF/s\n",s[i].cin,s[i].cout,s[i].k,s[i].s,s[i].h,f/a/1e9,impl,f/b/1e9);
  }
  printf("total batch %d threads %d: onednn %.1f ms (%.1f GF/s), im2col+openblas %.1f ms (%.1f GF/s)\n",n,threads,to*1e3,fl/to/1e9,ti*1e3,fl/ti/1e9);
}
