# Reference fits from lme4 1.1-31 / glmmTMB (Debian's r-cran-lme4, r-cran-glmmtmb), for the issues on
# mixed models at scale, exact quadrature and standard errors, and formula input. Run from the repo root:
#   Rscript benchmarks/references/lme4_references.R ../shared/data > benchmarks/references/lme4_references.json
# Tests read the stored JSON (no R in tests or CI). Times are elapsed seconds of the fit alone, median of 3.
suppressPackageStartupMessages({ library(lme4); library(jsonlite) })
args <- commandArgs(trailingOnly = TRUE)
data_dir <- if (length(args)) args[1] else "../shared/data"
read <- function(name) read.csv(file.path(data_dir, name))

timed <- function(expr) {
  f <- substitute(expr); env <- parent.frame()
  times <- replicate(3, system.time(fit <- eval(f, env))[["elapsed"]])
  list(fit = eval(f, env), seconds = median(times))
}

# "Subject (Intercept)", "cor Subject (Intercept) Days", "Residual"
label <- function(vc) ifelse(is.na(vc$var1), vc$grp,
                             ifelse(is.na(vc$var2), paste(vc$grp, vc$var1), paste("cor", vc$grp, vc$var1, vc$var2)))

lmm <- function(fit, seconds) {
  vc <- as.data.frame(VarCorr(fit))
  list(
    fixef = as.list(fixef(fit)),
    fixef_se_ml = as.list(sqrt(diag(as.matrix(vcov(fit))))),
    sd = setNames(as.list(vc$sdcor), label(vc)),
    logLik = as.numeric(logLik(fit)),
    deviance = deviance(fit),
    theta = as.list(getME(fit, "theta")),
    seconds = seconds
  )
}

glmm <- function(fit, seconds) {
  vc <- as.data.frame(VarCorr(fit))
  list(
    fixef = as.list(fixef(fit)),
    fixef_se = as.list(sqrt(diag(as.matrix(vcov(fit))))),
    sd = setNames(as.list(vc$sdcor), label(vc)),
    logLik = as.numeric(logLik(fit)),
    seconds = seconds
  )
}

out <- list(meta = list(R = R.version.string, lme4 = as.character(packageVersion("lme4")),
                        glmmTMB = as.character(packageVersion("glmmTMB")), date = as.character(Sys.Date()),
                        machine = paste(Sys.info()[["sysname"]], Sys.info()[["machine"]], parallel::detectCores(), "cores")))

sleep <- read("sleepstudy.csv"); sleep$Subject <- factor(sleep$Subject)
r <- timed(lmer(Reaction ~ Days + (Days | Subject), sleep, REML = FALSE))
out$sleepstudy <- lmm(r$fit, r$seconds)

dye <- read("dyestuff.csv"); dye$Batch <- factor(dye$Batch)
r <- timed(lmer(Yield ~ 1 + (1 | Batch), dye, REML = FALSE)); out$dyestuff <- lmm(r$fit, r$seconds)
dye2 <- read("dyestuff2.csv"); dye2$Batch <- factor(dye2$Batch)
r <- timed(lmer(Yield ~ 1 + (1 | Batch), dye2, REML = FALSE)); out$dyestuff2 <- lmm(r$fit, r$seconds)

cbpp <- read("cbpp.csv"); cbpp$herd <- factor(cbpp$herd); cbpp$period <- factor(cbpp$period)
for (q in c(1, 25)) {
  r <- timed(glmer(cbind(incidence, size - incidence) ~ period + (1 | herd), cbpp, family = binomial, nAGQ = q))
  out[[paste0("cbpp_nAGQ", q)]] <- glmm(r$fit, r$seconds)
}

rats <- read("rat_tumors.csv"); rats$experiment <- factor(rats$experiment)
for (q in c(1, 25)) {
  r <- timed(glmer(cbind(tumors, rats - tumors) ~ 1 + (1 | experiment), rats, family = binomial, nAGQ = q))
  out[[paste0("rat_tumors_logit_nAGQ", q)]] <- glmm(r$fit, r$seconds)
}

grouse <- read("grouseticks.csv")
grouse$YEAR <- factor(grouse$YEAR); grouse$BROOD <- factor(grouse$BROOD); grouse$LOCATION <- factor(grouse$LOCATION)
grouse$HEIGHTc <- (grouse$HEIGHT - mean(grouse$HEIGHT)) / sd(grouse$HEIGHT)  # standardised height
r <- timed(glmer(TICKS ~ YEAR + HEIGHTc + (1 | BROOD) + (1 | LOCATION), grouse, family = poisson))
out$grouseticks <- glmm(r$fit, r$seconds)

inst <- read("insteval.csv"); inst$s <- factor(inst$s); inst$d <- factor(inst$d)
r <- timed(lmer(y ~ 1 + (1 | s) + (1 | d), inst, REML = FALSE))
out$insteval <- lmm(r$fit, r$seconds)
out$insteval$fixef_se_ml <- as.list(sqrt(diag(as.matrix(vcov(r$fit)))))

cat(toJSON(out, auto_unbox = TRUE, digits = NA, pretty = TRUE), "\n")
