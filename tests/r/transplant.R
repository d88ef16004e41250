# Reference numbers for the upload acceptance tests (tests/test_transplant_acceptance.py).
#
# Run from the repository root, after tests/fixtures/transplant/export.py:
#     Rscript tests/r/transplant.R
# Needs the R package jsonlite (Debian: apt-get install r-cran-jsonlite) to write the JSON.
# Reads the exported public transplant files (bmt.csv, cgvhd.tsv), derives the
# endpoints here, independently of the Python mapping, and writes
# tests/fixtures/transplant/r_reference.json. Made with R 4.x, survival 3.5-3, cmprsk 2.2-11.
#
# Endpoints (EBMT conventions, times in months, 1 year = 12 months):
#   OS  = death from any cause;  RFS = relapse or death, whichever first;
#   competing causes on the RFS time: 1 relapse, 2 death without relapse, 0 censored.
# bmt carries one time and a cause (its codes: 1 = TRM, 2 = relapse), so it has
# no OS after relapse: RFS, cumulative incidences and cause-specific Cox only.

suppressPackageStartupMessages({
  library(survival)
  library(cmprsk)
})

dir <- file.path("tests", "fixtures", "transplant")

# jsonlite writes the JSON: numbers to 15 significant digits (digits = NA, jsonlite's maximum),
# length-1 vectors as scalars unless wrapped in I(), NA/NaN/Inf and NULL as null.
write_fixture <- function(x, path) {
  jsonlite::write_json(x, path, digits = NA, auto_unbox = TRUE, na = "null", null = "null", pretty = FALSE)
}

# survfit(conf.type = "log-log") at landmarks inside each group's follow-up, median with CI.
km <- function(time, event, group, times) {
  one <- function(t, e) {
    fit <- survfit(Surv(t, e) ~ 1, conf.type = "log-log")
    inside <- times[times <= max(t)]
    s <- summary(fit, times = inside)
    med <- unname(summary(fit)$table[c("median", "0.95LCL", "0.95UCL")])
    list(n = length(t), events = sum(e), times = I(s$time), surv = I(s$surv), lower = I(s$lower),
         upper = I(s$upper), n_risk = I(s$n.risk), median = I(med))
  }
  groups <- list(all = one(time, event))
  for (g in sort(unique(group))) groups[[g]] <- one(time[group == g], event[group == g])
  lr <- survdiff(Surv(time, event) ~ group)
  df <- length(lr$n) - 1
  list(call = "survfit(Surv(time, event) ~ group, conf.type = 'log-log'); survdiff(...)",
       groups = groups,
       logrank = list(chisq = lr$chisq, df = df, p = pchisq(lr$chisq, df, lower.tail = FALSE)))
}

# cuminc / timepoints per group and ungrouped; Gray's test per cause.
cif <- function(time, cause, group, times) {
  fit <- cuminc(time, cause, group)
  fit_all <- cuminc(time, cause)
  tp <- timepoints(fit, times)
  tp_all <- timepoints(fit_all, times)
  rows <- function(tp) {
    res <- list()
    for (nm in rownames(tp$est)) res[[nm]] <- list(est = I(unname(tp$est[nm, ])), var = I(unname(tp$var[nm, ])))
    res
  }
  tests <- list()
  for (cs in rownames(fit$Tests)) {
    tests[[cs]] <- list(stat = fit$Tests[cs, "stat"], df = fit$Tests[cs, "df"],
                        p = pchisq(fit$Tests[cs, "stat"], fit$Tests[cs, "df"], lower.tail = FALSE))
  }
  list(call = "cuminc(time, cause, group); timepoints(fit, times)", times = I(times),
       groups = rows(tp), all = rows(tp_all), gray = tests)
}

# coxph with Efron ties: one entry per term.
cox <- function(formula, data) {
  fit <- coxph(formula, data = data, ties = "efron")
  s <- summary(fit)
  terms <- list()
  for (i in seq_along(coef(fit))) {
    terms[[i]] <- list(term = names(coef(fit))[i], coef = unname(coef(fit)[i]), se = s$coefficients[i, "se(coef)"],
                       hr = s$conf.int[i, "exp(coef)"], lower = s$conf.int[i, "lower .95"],
                       upper = s$conf.int[i, "upper .95"], p = s$coefficients[i, "Pr(>|z|)"])
  }
  list(call = paste(deparse(formula), collapse = ""), n = fit$n, events = fit$nevent,
       loglik = I(fit$loglik), terms = terms)
}

# ---------------------------------------------------------------------- bmt
bmt <- read.csv(file.path(dir, "bmt.csv"))
bmt$cause <- ifelse(bmt$status == 2, 1, ifelse(bmt$status == 1, 2, 0))
bmt$rfs <- as.integer(bmt$status != 0)
bmt$dis <- as.character(bmt$dis)
bmt_times <- c(6, 12, 24, 48)
bmt_ref <- list(
  km_rfs = km(bmt$ftime, bmt$rfs, bmt$dis, bmt_times),
  cif = cif(bmt$ftime, bmt$cause, bmt$dis, bmt_times),
  cox_rfs = cox(Surv(ftime, rfs) ~ dis, bmt),
  cox_relapse = cox(Surv(ftime, cause == 1) ~ dis, bmt),
  cox_nrm = cox(Surv(ftime, cause == 2) ~ dis, bmt)
)

# ---------------------------------------------------------------------- cgvhd
cg <- read.delim(file.path(dir, "cgvhd.tsv"))
cg$os_time <- cg$survtime * 12
cg$rfs_time <- ifelse(cg$rcens == 1, cg$reltime, cg$survtime) * 12
cg$rfs <- as.integer(cg$rcens == 1 | cg$stat == 1)
cg$cause <- ifelse(cg$rcens == 1, 1, ifelse(cg$stat == 1, 2, 0))
cg_times <- c(6, 12, 24, 36, 48)
cg_ref <- list(
  km_os = km(cg$os_time, cg$stat, cg$tx, cg_times),
  km_rfs = km(cg$rfs_time, cg$rfs, cg$tx, cg_times),
  cif = cif(cg$rfs_time, cg$cause, cg$tx, cg_times),
  cox_os = cox(Surv(os_time, stat) ~ dx + tx + extent + age, cg),
  cox_rfs = cox(Surv(rfs_time, rfs) ~ dx + tx + extent + age, cg),
  cox_relapse = cox(Surv(rfs_time, cause == 1) ~ dx + tx, cg)
)

write_fixture(list(
  made_with = paste(R.version.string, "survival", packageVersion("survival"), "cmprsk", packageVersion("cmprsk")),
  bmt = bmt_ref, cgvhd = cg_ref
), file.path(dir, "r_reference.json"))
