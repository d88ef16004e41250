# Reference values for analysis/stats/rmst.py and analysis/stats/conditional.py, frozen as JSON.
#
# Run from the repository root:  Rscript tests/r/rmst.R
# Needs survival and jsonlite. Writes tests/fixtures/rmst/<name>.csv and <name>.json. R 4.2, survival 3.5-3.
#
#   restricted mean:      print(survfit(Surv(time, status) ~ group), rmean = tau): "rmean", "se(rmean)"
#                         (read from summary(fit, rmean = tau)$table); 95 % CI rmean -/+ qnorm(0.975) se;
#                         the difference of two groups with se = sqrt(se1^2 + se2^2), z test and CI.
#   conditional survival: survfit(Surv(time, status) ~ 1, subset = time > s): survival given alive
#                         (event-free) at s, summary(fit, times = ...) on the time scale from HSCT2.

suppressPackageStartupMessages(library(survival))
source(file.path("tests", "r", "helpers.R"))

out_dir <- file.path("tests", "fixtures", "rmst")
dir.create(out_dir, recursive = TRUE, showWarnings = FALSE)

rmst_ref <- function(d, taus) {
  out <- list()
  for (tau in taus) {
    fit <- survfit(Surv(time, status) ~ group, data = d)
    tab <- summary(fit, rmean = tau)$table
    groups <- sub("group=", "", rownames(tab))
    est <- unname(tab[, "rmean"])
    se <- unname(tab[, "se(rmean)"])
    z <- qnorm(0.975)
    diff <- est[1] - est[2]
    dse <- sqrt(se[1]^2 + se[2]^2)
    out[[length(out) + 1]] <- list(
      tau = tau, groups = I(groups), rmst = I(est), se = I(se), lower = I(est - z * se), upper = I(est + z * se),
      difference = list(estimate = diff, se = dse, lower = diff - z * dse, upper = diff + z * dse,
                        z = diff / dse, p = 2 * pnorm(-abs(diff / dse))))
  }
  out
}

conditional_ref <- function(d, givens, times) {
  out <- list()
  for (s in givens) {
    fit <- survfit(Surv(time, status) ~ 1, data = d, subset = time > s, conf.type = "log-log")
    inside <- times[times > s & times <= max(d$time[d$time > s])]
    sm <- summary(fit, times = inside)
    out[[length(out) + 1]] <- list(given = s, n = sum(d$time > s), times = I(sm$time), surv = I(sm$surv),
                                   lower = I(sm$lower), upper = I(sm$upper), n_risk = I(sm$n.risk))
  }
  out
}

reference <- function(name, d, taus, givens, times) {
  write.csv(d, file.path(out_dir, paste0(name, ".csv")), row.names = FALSE)
  write_fixture(list(name = name, call = "summary(survfit(Surv(time, status) ~ group), rmean = tau)$table; survfit(..., subset = time > s)",
                     rmst = rmst_ref(d, taus), conditional = conditional_ref(d, givens, times)),
                file.path(out_dir, paste0(name, ".json")))
}

lg <- survival::lung
lung <- data.frame(time = lg$time, status = as.integer(lg$status == 2), group = ifelse(lg$sex == 1, "male", "female"))
# 365 days; 800 (past some patients); 1100 (past the last time of the female group: the curve is carried on)
reference("lung", lung, c(365, 800, 1100), c(90, 180, 365), c(180, 365, 540, 730, 1000))

am <- survival::aml
aml <- data.frame(time = am$time, status = am$status, group = as.character(am$x))
# at the first time (R refuses a horizon before it); exactly at an event time; past the end of follow-up
reference("aml", aml, c(5, 23, 200), c(5, 12), c(12, 18, 24, 36, 48))

demo <- read.csv(file.path("data", "demo_cohort.csv"))
os <- data.frame(time = demo$followup_months, status = demo$death, group = demo$lineage)
reference("demo_os", os, c(12, 24, 60), c(6, 12, 24), c(12, 24, 36, 60))
rfs <- data.frame(time = ifelse(demo$relapse == 1, demo$relapse_months, demo$followup_months),
                  status = as.integer(demo$relapse == 1 | demo$death == 1), group = demo$atg)
reference("demo_rfs", rfs, c(24, 60), c(6, 12), c(12, 24, 60))
