# Reference values for the GVHD incidences, GRFS and the landmark/centre analyses of the dashboard
# (analysis/analyses/post_transplant.py, analysis/cohort/post_transplant.py), frozen as JSON.
#
# Run from the repository root:  Rscript tests/r/post_transplant.R
# Needs survival, cmprsk and jsonlite. Reads scikit-survival's cgvhd (tests/fixtures/transplant/cgvhd.tsv,
# Pintilie 2006: times in years) and derives every endpoint here, independently of the Python code:
#
#   aGVHD II-IV / III-IV, cGVHD: cause 1 the GVHD (agvh == 1 and grade >= II / III; cgvh == 1) at its time,
#                         cause 2 death without that GVHD at the last follow-up, 0 censored;
#                         cuminc(time, cause, tx) and timepoints(); Gray's test.
#   GRFS (Holtan 2015):   the first of aGVHD III-IV, cGVHD (no severity in these data: every cGVHD counts),
#                         relapse, death; survfit(conf.type = "log-log") by tx, survdiff; coxph(~ tx + dx).
# Writes tests/fixtures/post_transplant/cgvhd.json. R 4.2, survival 3.5-3, cmprsk 2.2-11.

suppressPackageStartupMessages({
  library(survival)
  library(cmprsk)
})
source(file.path("tests", "r", "helpers.R"))

out_dir <- file.path("tests", "fixtures", "post_transplant")
dir.create(out_dir, recursive = TRUE, showWarnings = FALSE)

cg <- read.delim(file.path("tests", "fixtures", "transplant", "cgvhd.tsv"))
fu <- cg$survtime * 12
times <- c(3, 6, 12, 24)

gvhd_ref <- function(happened, when) {
  time <- ifelse(happened, when, fu)
  cause <- ifelse(happened, 1, ifelse(cg$stat == 1, 2, 0))
  fit <- cuminc(time, cause, cg$tx)
  all <- cuminc(time, cause)
  tp <- timepoints(fit, times)
  tpa <- timepoints(all, times)
  list(events = sum(happened), times = I(times),
       all = list(est = I(unname(tpa$est["1 1", ])), var = I(unname(tpa$var["1 1", ]))),
       BM = list(est = I(unname(tp$est["BM 1", ])), var = I(unname(tp$var["BM 1", ]))),
       PB = list(est = I(unname(tp$est["PB 1", ])), var = I(unname(tp$var["PB 1", ]))),
       gray = list(stat = fit$Tests["1", "stat"], p = fit$Tests["1", "pv"]))
}

agvhd2 <- gvhd_ref(cg$agvh == 1 & cg$agvhdgd >= 2, cg$agvhtime * 12)
agvhd3 <- gvhd_ref(cg$agvh == 1 & cg$agvhdgd >= 3, cg$agvhtime * 12)
cgvhd <- gvhd_ref(cg$cgvh == 1, cg$cgvhtime * 12)

a3 <- ifelse(cg$agvh == 1 & cg$agvhdgd >= 3, cg$agvhtime * 12, Inf)
c2 <- ifelse(cg$cgvh == 1, cg$cgvhtime * 12, Inf)
rel <- ifelse(cg$rcens == 1, cg$reltime * 12, Inf)
grfs_time <- pmin(fu, a3, c2, rel)
grfs_event <- as.integer(cg$stat == 1 | cg$rcens == 1 | is.finite(a3) | is.finite(c2))
km <- survfit(Surv(grfs_time, grfs_event) ~ tx, data = cg, conf.type = "log-log")
s <- summary(km, times = times)
lr <- survdiff(Surv(grfs_time, grfs_event) ~ tx, data = cg)
cx <- coxph(Surv(grfs_time, grfs_event) ~ tx + dx, data = cg, ties = "efron")
write_fixture(list(
  call = "cuminc(time, cause, tx) of each GVHD (death without it competing); GRFS: survfit/survdiff/coxph",
  agvhd2 = agvhd2, agvhd3 = agvhd3, cgvhd = cgvhd,
  grfs = list(time = I(grfs_time), event = I(grfs_event), strata = I(as.character(s$strata)), times = I(s$time),
              surv = I(s$surv), lower = I(s$lower), upper = I(s$upper),
              logrank = list(chisq = lr$chisq, p = pchisq(lr$chisq, 1, lower.tail = FALSE)),
              cox = list(terms = I(c("tx=PB", "dx=CML")), coef = I(unname(coef(cx))),
                         se = I(unname(sqrt(diag(cx$var)))))),
  rmst_grfs = local({
    tab <- summary(km, rmean = 24)$table
    list(tau = 24, rmst = I(unname(tab[, "rmean"])), se = I(unname(tab[, "se(rmean)"])))
  })
), file.path(out_dir, "cgvhd.json"))
