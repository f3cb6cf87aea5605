"""English rules, declared as data (see ``dialogs.analyzer.rules`` for the format).

Text is lower-cased before matching and curly apostrophes become ``'``.
"""

from __future__ import annotations

from dialogs.analyzer.rules import NEGATABLE_TAGS, Lexicon, Pattern, PatternRow, TermRow, words

# People and things an answer can be negative about.
_WHO = (
    r"(?:boss|bosses|manager|managers|supervisor|team lead|lead|director|ceo|founder|owner|"
    r"management|leadership|executives?|company|employer|firm|organi[sz]ation|coworkers?|"
    r"co-workers?|colleagues?|team|teammates?|culture|environment|workplace|atmosphere|place|"
    r"department|people|everyone|they|he|she|hr)"
)
_INTENSIFIERS = r"(?:(?:always|just|really|so|very|too|extremely|pretty|quite|incredibly|totally|"
_INTENSIFIERS += r"completely|often|constantly|also|super|honestly|frankly|simply)\s+)*"

TERMS: tuple[TermRow, ...] = (
    # -- red flags ---------------------------------------------------------------------
    (
        "trash_talk",
        "jerk{,s} | idiot{,s} | idiotic | moron{,s} | moronic | incompetent"
        " | clueless | useless | worthless | toxic | garbage | trash | trashy | suck{s,ed,y}"
        " | crap | crappy | disgusting | foul | hellhole | hell hole"
        " | dysfunctional | hate{,d} | hating | despise{,d} | loathe{,d} | can't stand"
        " | couldn't stand | cannot stand | could not stand | bull{y,ies,ied,ying}"
        " | harass{,ed,es,ing,ment} | backstab{bing,ber,bers,bed} | two-faced"
        " | micromanag{e,ed,er,ers,ing,ement} | liar{,s} | lied to me | lied to us | pathetic"
        " | clown{,s} | a joke | a circus | a zoo | dumpster fire | clown show"
        " | sexist | racist | unprofessional"
        " | disrespect{,ful,ed} | favo{,u}ritism | office politics | office drama | dishonest"
        " | corrupt | shady | sleazy | unbearable | insufferable | psycho"
        " | worst boss | worst manager | worst company | worst job | worst place | rude"
        " | arrogant | nobody knew what | no one knew what | nobody there knew what"
        " | no idea what they were doing | no clue what they were doing"
        " | didn't know what they were doing | did not know what they were doing"
        " | took credit for my | taking credit for my | stole credit | stole my ideas"
        " | stealing credit | stole my work",
    ),
    (
        "trash_talk~soft",
        "terrible | awful | horrible | stupid | dumb | ridiculous | miserable | lazy | unfair"
        " | unreasonable | hostile | chaotic | disorgani{s,z}ed | mess"
        " | difficult to work with | hard to work with | impossible to work with"
        " | difficult to get along with | hard to get along with"
        " | didn't get along | did not get along | never got along | couldn't get along"
        " | could not get along | butted heads | butting heads | locked horns | clash{,ed,es}"
        " | conflict{,s} with my | conflict{,s} with our | constant conflict{,s}"
        " | disagreement{,s} | argument{,s} with | fought with | i was frustrated"
        " | i got frustrated | i felt frustrated | i grew frustrated | was frustrating"
        " | so frustrating | fed up | sick of | tired of | bad management | nightmare"
        " | poor management | bad manager | bad boss | bad leadership | poor leadership"
        " | no respect | underappreciated | unappreciated | undervalued | not appreciated"
        " | not valued | politics | favourites | favorites | was a nightmare"
        " | were a nightmare | was the worst | were the worst | out of touch"
        " | got into a fight | had a fight | fight with my | fights with my | argued with my"
        " | arguing with my | yelled at me | screamed at me | didn't see eye to eye"
        " | did not see eye to eye | never saw eye to eye | on my case | breathing down my neck"
        " | broken promises | broke their promise | broke his promise | broke her promise"
        " | went back on their word | going nowhere | sinking ship | had no future"
        " | dead-end company | dead end company | going downhill | too much drama"
        " | so much drama | all the drama | wasn't getting along | weren't getting along"
        " | not getting along",
    ),
    # Harmless phrases that contain a flagged word: the longest match wins, so listing
    # them here (with a tag nothing reads) keeps the shorter term from firing.
    (
        "neutral",
        "hate to leave | hate to go | hated to leave | hate leaving | hated leaving | fired up"
        " | no joke | rude awakening | garbage collection | drama teacher | hostile takeover"
        " | debt collection | technical debt | physical therapy | speech therapy"
        " | can't say enough | cannot say enough | it just happened that | just happened to"
        " | cleaned up the mess | clean up the mess | fixed the mess | healthy disagreement{,s}"
        " | don't mind long hours | used to long hours | happy to work long hours"
        " | comfortable with long hours | prevent burnout | reduce burnout | reducing burnout"
        " | avoid burnout | singled out for | toxic waste | toxic chemicals | toxic substances",
    ),
    ("blame trash_talk", "jealous | envious | threatened by me | intimidated by me"),
    (
        "blame",
        "not my fault | wasn't my fault | was not my fault | isn't my fault | is not my fault"
        " | none of it was my fault | not my problem | wasn't my problem | not on me"
        " | did nothing wrong | didn't do anything wrong | did not do anything wrong"
        " | never did anything wrong | done nothing wrong | didn't do nothing wrong"
        " | set me up to fail | set me up for failure | under the bus | scapegoat{,s,ed}"
        " | out to get me | had it in for me | had it out for me | blamed me | blamed everything"
        " | their fault | his fault | her fault | management's fault | the company's fault"
        " | my boss's fault | my manager's fault | everyone else's fault | someone else's fault"
        " | the fault of | singled me out | targeted me | picked on me"
        " | never gave me a chance | didn't give me a chance | didn't give me a fair chance"
        " | never trained me | nobody trained me | no one trained me | nobody told me"
        " | no one told me | nobody helped me | no one helped me | unfairly fired"
        " | unfairly dismissed | unfairly let go | wrongfully terminated | wrongfully dismissed"
        " | wrongful termination | against me | not to blame | wasn't to blame",
    ),
    (
        "money_headline~want",
        "more money | better money | extra money | for the money | about the money"
        " | it's the money | it was the money | motivated by money | more pay | better pay"
        " | paid what i'm worth | paid what i am worth"
        " | higher pay | more salary | higher salary | better salary | bigger salary | a raise"
        " | pay raise | pay rise | salary increase | salary bump | pay bump | bigger paycheck"
        " | better paycheck | bigger paycheque | better compensation | higher compensation"
        " | more compensation | better paid | better-paid | get paid more | pays more"
        " | pays better | earn more money | make more money | making more money | higher wages"
        " | better wages | more benefits | better benefits",
    ),
    (
        "money_headline~complaint",
        "underpaid | under-paid | underpaying | low pay | low salary | low wages | poor pay"
        " | bad pay | lousy pay | terrible pay | crappy pay | wasn't paid enough"
        " | weren't paid enough | not paid enough | didn't pay enough | didn't pay me enough"
        " | did not pay enough | did not pay me enough | paid peanuts | no raise | no raises"
        " | didn't pay me what | did not pay me what | not paid what i was worth"
        " | never got a raise | never gave me a raise | denied a raise | denied me a raise",
    ),
    (
        "workload_complaint",
        "overworked | over-worked | overworking | long hours | crazy hours | insane hours"
        " | endless hours | too many hours | too much work | too much overtime"
        " | constant overtime | unpaid overtime | mandatory overtime | forced overtime"
        " | excessive overtime | so much overtime | worked to death | working to death"
        " | worked me to death | burned out | burnt out | burning out | burnout | burn-out"
        " | exhausted | exhausting | no work-life balance | no work life balance"
        " | zero work-life balance | no life | heavy workload | insane workload"
        " | crazy workload | unmanageable workload | unrealistic workload | understaffed"
        " | short-staffed | short staffed | worked weekends | working weekends | work weekends"
        " | every weekend | nights and weekends | too stressful | very stressful"
        " | extremely stressful | so stressful | incredibly stressful | too much stress"
        " | too much pressure | slave driver | on call 24/7 | stressed out"
        " | stressed all the time",
    ),
    (
        "oversharing",
        "anxiety | anxious | panic attack{,s} | depression | i was depressed | i felt depressed"
        " | i got depressed | mental breakdown"
        " | nervous breakdown | in therapy | my therapist | therapy sessions | psychiatrist"
        " | my medication | on medication | was diagnosed | my diagnosis | my illness"
        " | had surgery | my surgery"
        " | needed surgery | had cancer | my cancer | chemo | chemotherapy | pregnan{t,cy}"
        " | miscarriage | divorce{,d} | divorcing | custody battle | my ex-wife"
        " | my ex-husband | my ex-partner | affair"
        " | mental health | a therapist | seeing a therapist | my doctor said | sick leave"
        " | lawsuit{,s} | sued | suing | sue them | my lawyer | my attorney | hired a lawyer"
        " | legal action | court case | illegal | illegally | discrimination | arrested"
        " | went to rehab | in rehab | addiction | drinking problem | gambling | in debt"
        " | my debts | eviction | hr complaint | filed a complaint | whistleblow{er,ing}"
        " | stealing | theft | misconduct | drunk at work | couldn't sleep | insomnia",
    ),
    (
        "oversharing~perf",
        "poor performance review{,s} | bad performance review{,s}"
        " | negative performance review{,s} | poor review{,s} | bad review{,s}"
        " | negative review{,s} | performance improvement plan | written up | wrote me up"
        " | disciplinary | final warning | written warning | formal warning | on a pip"
        " | put on a pip | failed my probation | failed probation | poor performance"
        " | bad performance | low performance",
    ),
    (
        "evasive",
        "no comment | it's complicated | it is complicated | it's a long story"
        " | it is a long story | none of your business | rather not say"
        " | rather not talk about it | rather not discuss | rather not get into | i'd rather not"
        " | prefer not to say | prefer not to discuss | prefer not to talk about"
        " | prefer not to get into | can't say | cannot say | can't explain | cannot explain"
        " | can not explain | can't talk about | cannot talk about | can't go into"
        " | cannot go into | can't get into | can't discuss | cannot discuss"
        " | not allowed to say | it just happened | stuff happened"
        " | i don't remember | i do not remember | can't remember | cannot remember"
        " | let's just say | let's not go there"
        " | next question | pass on that | skip that | i'd rather skip",
    ),
    # -- how the candidate left (exit statements) ---------------------------------------
    # Only statements about the candidate's own exit ("there were layoffs" is not one).
    (
        "exit:laid_off",
        "i was laid off | i got laid off | i've been laid off | i have been laid off"
        " | i had been laid off | laid me off | we were laid off | we were all laid off"
        " | among those laid off | one of those laid off | made redundant | took redundancy"
        " | voluntary redundancy | position was eliminated | role was eliminated"
        " | job was eliminated | position eliminated | role eliminated"
        " | positions were eliminated | roles were eliminated | eliminated my position"
        " | eliminated my role | eliminated my job | position was cut | role was cut"
        " | job was cut | i was furloughed | was furloughed | position was outsourced"
        " | role was outsourced | job was outsourced | outsourced my",
    ),
    (
        "exit:fired",
        "was fired | got fired | been fired | fired me | i was dismissed | was dismissed"
        " | dismissed me | i was terminated | was terminated | terminated me | my termination"
        " | was sacked | got sacked | sacked me | got canned | was canned | asked me to leave"
        " | was asked to leave | asked me to resign | was asked to resign | failed probation"
        " | failed my probation | didn't pass probation | did not pass probation"
        " | didn't pass my probation",
    ),
    (
        "exit:fired exit:laid_off",
        "let me go | letting me go | let go of me | i was let go | was let go | got let go"
        " | been let go | were let go",
    ),
    (
        "exit:quit",
        "i resigned | i quit | quit my job | i'm quitting | i am quitting | i chose to leave"
        " | i decided to leave | i've decided to leave | i have decided to leave"
        " | decided to resign | i handed in my notice | handed in my notice | gave my notice"
        " | i gave notice | put in my notice | turned in my resignation | my resignation"
        " | i walked away | i walked out | i stepped down | left voluntarily"
        " | voluntarily left | left of my own accord | left on my own | my own decision"
        " | my decision to leave",
    ),
    (
        "exit:contract_ended",
        "fixed-term | fixed term | temporary contract | temporary position | temporary role"
        " | temp role | temp job | temporary assignment | contract role | contract position"
        " | contract job | assignment ended | project ended | project wrapped up"
        " | project was completed | project came to an end | end of my contract"
        " | end of the contract | end of contract | seasonal role | seasonal position",
    ),
    # -- strengths ---------------------------------------------------------------------
    (
        "ownership",
        "my mistake{,s} | my fault | my own fault | my responsibility | i take responsibility"
        " | i was terrible at | i was bad at | i wasn't good at | i was not good at"
        " | i was awful at | stupid mistake | dumb mistake"
        " | i take full responsibility | i took responsibility | i took full responsibility"
        " | i own that | i own it | i owned it | i should have | i should've | i could have handled"
        " | i could've handled | i could have done | i could've done | i underperformed"
        " | i fell short | i was inexperienced | i was too | i wasn't ready | i was not ready"
        " | i struggled | i underestimated | i didn't meet | i did not meet"
        " | i didn't fully understand | i did not fully understand | i needed to improve"
        " | i needed to enhance | i needed to develop | i needed to strengthen | i was at fault"
        " | partly my fault | it was on me | that's on me | it's on me | that was on me"
        " | i take ownership | i took ownership | i wasn't a good fit | i was not a good fit",
    ),
    (
        "lesson",
        "i learned | i learnt | i've learned | i've learnt | i have learned | learned a lot"
        " | learnt a lot | learned that | learned to | learned how | learnt to | lesson{,s}"
        " | taught me | i realized | i realised | i've realized | i've realised | i have realized"
        " | i now know | i know now | now i know | i now understand | i understand now"
        " | i now make sure | now i make sure | i now always | i've since | i have since"
        " | since then i | going forward | from that experience | from the experience"
        " | learning experience | takeaway | take-away | in hindsight | looking back"
        " | i corrected | corrected the | i improved | improved my | i've improved"
        " | i have improved | worked on my | working on my | i changed how | i changed the way"
        " | do things differently | would do differently | i'd do differently | better routine"
        " | i reflected | reflecting on | i understand how important | i understand why",
    ),
    (
        "growth",
        "grow | grows | growing | grown | growth | develop | developing | development | learn"
        " | learning | challenge{,s} | challenging | advance | advancement | advancing"
        " | progress | progression | career | opportunit{y,ies} | expand | expanding | broaden"
        " | stretch | next step | new direction | different direction | move forward"
        " | moving forward | step up | take on | responsibilit{y,ies} | ambition | ambitious"
        " | aspire | aspiration{,s} | goal{,s} | potential | eager to | excited to"
        " | excited about | fresh start | new skills | contribute | contributing"
        " | make an impact | impact | ceiling | long-term | long term | future | move on"
        " | moving on | looking forward | ready for | better fit | better suited | improve"
        " | improving | new chapter | next chapter | challenged | outgrew | outgrown",
    ),
    (
        "role_link",
        "this role | this position | this job | this opportunity | this company | this team"
        " | this organization | this organisation | your company | your team"
        " | your organization | your organisation | your mission | your product{,s}"
        " | your customers | your clients | your needs | your software | your work"
        " | your approach | your culture | your business | your firm | your group"
        " | your department | your platform | your industry | join you | joining you"
        " | work with you | working with you | here | a role like this | a position like this"
        " | a job like this | the role you | the position you | the job you | you're hiring"
        " | you are hiring | you're looking for | you are looking for | we're talking about"
        " | we are talking about | we're discussing | we are discussing | job description"
        " | job posting | the posting | the opening",
    ),
    (
        "results",
        "increased | reduced | cut costs | grew | boosted | doubled | tripled | saved"
        " | got a raise | earned a raise | received a raise | was given a raise"
        " | delivered | launched | shipped | built | i led | we led | led a | led the | led our"
        " | led my | managed a team | exceeded | surpassed | won | achieved | accomplished"
        " | accomplishment{,s} | milestone{,s} | award{,s,ed} | promoted | promotion"
        " | top performer | generated | streamlined | implemented | completed | mentored"
        " | trained | stellar reviews | strong reviews | great reviews | excellent reviews"
        " | quota | record sales | on-time | ahead of schedule",
    ),
    (
        "proactive",
        "course{,s} | coursework | classes | a class | took a class | certification{,s}"
        " | certificate{,s} | certified | bootcamp | boot camp | training | volunteer{,s,ed,ing}"
        " | freelanc{e,ed,er,ing} | consulting | consultant | contract work"
        " | side project{,s} | personal project{,s} | open source | open-source | studied"
        " | studying | self-study | taught myself | self-taught | online program"
        " | workshop{,s} | portfolio | upskill{,ed,ing} | reskill{,ed,ing} | coursera | udemy"
        " | edx | a degree | my degree | degree in | master's | bachelor's | night school"
        " | mooc{,s} | seminar{,s} | conference{,s} | internship | part-time work",
    ),
    (
        "good_terms",
        "reference{,s} | referee{,s} | good terms | great terms | positive terms"
        " | friendly terms | best of terms | in touch | recommend{,s,ed,ing}"
        " | recommendation{,s} | vouch for me | speak to my work | speak highly | amicabl{e,y}"
        " | mutual decision | mutually agreed | agreed | grateful | thankful | appreciate"
        " | appreciated | appreciative | good note | positive note | supportive of my decision"
        " | still talk | still speak | keep in contact | stay in contact | still friends"
        " | good relationship | great relationship | strong relationship | mentor to me",
    ),
    ("hedge", "maybe | perhaps | probably | i guess | i suppose | kinda | sorta | i think maybe"
              " | not sure | i'm not sure | not really sure | or something | or whatever"
              " | i don't know | i dunno | somewhat | more or less | possibly | i mean"),
    ("specific", "project{,s} | product line | product launch"),
    (
        "skill",
        "python | java | javascript | typescript | sql | excel | power bi | tableau | salesforce"
        " | sap | aws | azure | docker | kubernetes | linux | cisco | networking | react"
        " | figma | photoshop | illustrator | autocad | data analysis | data science"
        " | machine learning | analytics | marketing | digital marketing | seo"
        " | content marketing | social media | sales | account management | customer service"
        " | customer success | customer support | project management | product management"
        " | program management | operations | supply chain | logistics | procurement"
        " | accounting | bookkeeping | finance | financial analysis | budgeting | auditing"
        " | tax | payroll | recruiting | recruitment | human resources | leadership"
        " | people management | mentoring | coaching | negotiation | public speaking"
        " | copywriting | technical writing | editing | graphic design | graphics | ux | ui"
        " | user research | web design | web development | software development"
        " | software engineering | frontend | front-end | backend | back-end | devops | cloud"
        " | cybersecurity | security | qa | testing | quality assurance | it support"
        " | technical support | help desk | database{,s} | construction | technology | teaching"
        " | nursing | patient care | healthcare | compliance | risk management | research"
        " | event planning | public relations | branding | e-commerce | ecommerce | crm | erp"
        " | six sigma | agile | scrum | stakeholder management | strategy"
        " | business development | upselling | solar | renewable energy | manufacturing"
        " | hospitality | retail | translation | video editing | photography | animation"
        " | comptia | network engineering | ios | android | mobile development | data engineering"
        " | statistics | logistics planning | inventory management | merchandising",
    ),
)

PATTERNS: tuple[PatternRow, ...] = (
    # -- red flags ---------------------------------------------------------------------
    Pattern(
        "trash_talk~soft",
        "difficult bad mean negative cold political cliquey cliquish demanding selfish petty "
        "condescending dismissive impossible awful terrible horrible annoying unpleasant "
        "hostile clueless worse",
        r"(?:difficult|bad|mean|negative|cold|political|cliquey|cliquish|demanding|selfish|"
        r"petty|condescending|dismissive|impossible|awful|terrible|horrible|annoying|"
        r"unpleasant|hostile|clueless|worse)\b",
        after=rf"(?<![a-z0-9]){_WHO}(?:\s+\w+)?\s+(?:was|were|is|are|has been|had been|"
        rf"could be|can be)\s+{_INTENSIFIERS}$",
    ),
    Pattern(
        "trash_talk~soft",
        "understand appreciate value respect care listen support recognise recognize trust "
        "help invest treat like liked",
        r"(?:understand|appreciated?|valued?|respect(?:ed)?|cared? about|cared?|liked? me|"
        r"listen(?:ed)?|support(?:ed)?|recogni[sz]ed?|trust(?:ed)?|help(?:ed)?|"
        r"invest(?:ed)? in|treat(?:ed)?)\b",
        after=rf"(?<![a-z0-9]){_WHO}\s+(?:\w+\s+)?(?:didn't|did not|never|doesn't|does not|"
        r"don't|do not|wouldn't|would not|refused to|failed to|couldn't|could not)\s+"
        r"(?:(?:even|really|bother to|know how to|care to|ever)\s+)*$",
    ),
    Pattern(
        "trash_talk~soft",
        "like enjoy respect trust stand",
        r"(?:like|enjoy|respect|trust|stand)\s+(?:my|the|our|that|this|their|his|her)\s+"
        r"(?:\w+\s+)?(?:boss|manager|supervisor|management|leadership|company|employer|team|"
        r"coworkers?|co-workers?|colleagues?|culture|environment|workplace|atmosphere|place|"
        r"people|owner|director)\b",
        after=r"(?<![a-z0-9])i\s+(?:really\s+|just\s+)?(?:didn't|did not|don't|do not|never|"
        r"couldn't|could not)\s+(?:really\s+)?$",
    ),
    (
        "trash_talk~soft",
        "treat treated treats",
        r"treat(?:ed|s)?\s+(?:its|their|his|her|us|me|them|the|our|employees|staff|people|"
        r"workers)\s+(?:\w+\s+)?(?:badly|poorly|unfairly|terribly|horribly|like dirt|"
        r"like garbage|like trash|like crap|like children|like a number)\b",
    ),
    (
        "trash_talk~soft",
        "promised",
        r"promised\s+(?:me|us)\b[^.;!?]{0,50}?\b(?:never\s+(?:delivered|happened|came|"
        r"followed through)|(?:didn't|did not)\s+(?:deliver|happen|follow through)|"
        r"went back on)",
    ),
    Pattern(
        "trash_talk~soft",
        "because",
        r"because\s+of\s+(?:my|the|our|that)\s+(?:\w+\s+)?(?:boss|manager|supervisor|management|"
        r"leadership|coworkers?|co-workers?|colleagues?|team lead|owner|director)\b(?!'s)",
        after=r"(?<![a-z0-9])(?:left|quit|leaving|resigned|leave|quitting)\s+(?:\w+\s+)?$",
    ),
    Pattern(
        "blame",
        "for",
        r"for\s+no\s+(?:good\s+|real\s+|apparent\s+)?reason",
        after=r"(?<![a-z0-9])(?:fired|let|laid|dismissed|terminated|sacked|got rid of)"
        r"(?:\s+(?:me|us))?(?:\s+(?:go|off))?\s+$",
    ),
    Pattern(
        "blame",
        "just only simply purely",
        r"(?:just|only|simply|purely)\s+because\b",
        after=r"(?<![a-z0-9])(?:fired|let|dismissed|terminated|sacked|got rid of)"
        r"(?:\s+(?:me|her|him|us))?(?:\s+go)?\s+$",
    ),
    (
        "blame",
        "all entirely completely only just",
        r"(?:all|entirely|completely|only|just)\s+because\s+of\s+(?:my|the|that|our|his|her)"
        r"\s+(?:\w+\s+)?(?:boss|manager|supervisor|management|leadership|coworkers?|"
        r"co-workers?|colleagues?|team lead)\b(?!'s)",
    ),
    Pattern(
        "blame",
        "blame blamed blames",
        r"blame[ds]?\s+(?:it\s+on\s+|everything\s+on\s+)?(?:them|him|her|management|leadership|"
        r"the company|my (?:\w+\s+)?(?:boss|manager|supervisor|team))\b",
        after=r"(?<![a-z0-9])(?:i|we)\s+(?:(?:totally|really|still|honestly|mostly|partly|"
        r"always|just|do|did)\s+)?$",
    ),
    (
        "money_headline~complaint",
        "pay salary salaries wage wages compensation money paycheck bonus bonuses",
        r"(?:pay|salary|salaries|wages?|compensation|money|paycheck|bonus(?:es)?)\s+"
        r"(?:\w+\s+)?(?:was|were|is|are)\s+(?:(?:just|so|too|really|very|pretty|way|honestly)\s+)*"
        r"(?:low|bad|poor|terrible|awful|garbage|trash|a joke|laughable|pathetic|not enough|"
        r"not great|not competitive|below market|insulting|lousy|crap|horrible|peanuts)\b",
    ),
    (
        "workload_complaint",
        "workload hours schedule overtime pressure stress",
        r"(?:workload|hours|schedule|overtime|pressure|stress)\s+(?:\w+\s+)?"
        r"(?:was|were|is|are|got|became)"
        r"\s+(?:(?:just|so|too|really|very|way|completely|totally|pretty|simply)\s+)*"
        r"(?:insane|crazy|unbearable|unmanageable|unrealistic|ridiculous|brutal|punishing|"
        r"too much|excessive|out of control|overwhelming|heavy|long|inhumane|relentless|"
        r"exhausting|killing me|a lot)\b",
    ),
    ("workload_complaint", "5 6 7 8 9", r"[5-9]\d[- ]?(?:hour|hr)s?[- ](?:work\s?)?weeks?\b"),
    (
        "evasive",
        "don't do didn't did won't will wouldn't would",
        r"(?:don't|do not|didn't|did not|won't|will not|wouldn't|would not)\s+(?:really\s+)?"
        r"(?:want|wish|like|care)\s+to\s+(?:talk\s+about|speak\s+about|discuss|get\s+into|"
        r"go\s+into|explain|say\s+(?:why|more|much)|share\s+(?:why|more|much|the details)|"
        r"comment\s+on)(?:\s+(?:it|that|this|them|the details|details|why))?",
    ),
    (
        "evasive",
        "it's it",
        r"it(?:'s|\s+is|\s+was)\s+(?:(?:kind|sort)\s+of\s+|a\s+bit\s+|just\s+|really\s+)?"
        r"(?:complicated|a long story|personal(?=\s*(?:[.,;!?]|$)))\b",
    ),
    (
        "evasive",
        "not",
        r"not something (?:i|i'd|i'm)\s+(?:\w+\s+)?(?:discuss|talk about|share|comfortable)",
    ),
    (
        "oversharing~perf",
        "poor bad negative low weak terrible",
        r"(?:poor|bad|negative|low|weak|terrible)\s+(?:\w+\s+)?(?:performance\s+)?"
        r"(?:reviews?|ratings?|evaluations?|appraisals?)\b",
    ),
    # -- exit statements ---------------------------------------------------------------
    Pattern(
        "exit:laid_off",
        "including",
        r"including\s+(?:me|mine|my own|myself)\b",
        after=r"(?<![a-z0-9])(?:positions|roles|jobs|people|staff|employees|colleagues|"
        r"team members|others)[^.!?;]{0,40}$",
    ),
    (
        "exit:laid_off",
        "restructure restructured restructuring reorganisation reorganization reorganised "
        "reorganized downsize downsized downsizing cutback cutbacks budget merger acquisition",
        r"(?:restructur\w*|reorgani[sz]\w*|downsiz\w*|cutbacks?|budget cuts?|merger|"
        r"acquisition)\b[^.!?;]{0,60}?\b(?:my (?:role|position|job|team|department)|"
        r"including (?:me|mine)|i was|i got|affected me|cost me)\b",
    ),
    Pattern(
        "exit:laid_off",
        "closed shut went folded ceased ran",
        r"(?:closed|shut down|went bankrupt|went under|went out of business|folded|"
        r"closed its doors|ceased operations|ran out of (?:money|funding|cash))\b",
        after=r"(?<![a-z0-9])(?:company|employer|business|startup|firm|store|shop|office|"
        r"plant|we)\s+(?:\w+\s+)?$",
    ),
    Pattern(
        "exit:still_employed",
        "still currently",
        r"(?:still|currently)\s+(?:working|employed|at|with)\b",
        after=r"(?<![a-z0-9])(?:i'm|i am)\s+$",
    ),
    (
        "exit:still_employed",
        "still currently",
        r"(?:currently|still)\s+(?:employed|working)\s+(?:at|with|for|as|in)\b",
    ),
    Pattern(
        "exit:still_employed",
        "still currently",
        r"(?:currently|still)\s+work\b",
        after=r"(?<![a-z0-9])i\s+$",
    ),
    Pattern(
        "exit:still_employed",
        "current present",
        r"(?:current|present)\s+(?:employer|company|role|job|position|team|manager|boss|"
        r"workplace|organi[sz]ation|firm)\b(?!\s+(?:search|hunt))",
        after=r"(?<![a-z0-9])(?:my|our|the)\s+$",
    ),
    (
        "exit:contract_ended",
        "contract",
        r"contract\b[^.!?;]{0,25}?\b(?:ended|ends|ending|expired|expires|finished|concluded|"
        r"ran out|runs out|was up|is up|came to an end|comes to an end|wasn't renewed|"
        r"was not renewed|not renewed|wrapped up|completed)\b",
    ),
    # -- strengths ---------------------------------------------------------------------
    Pattern(
        "ownership",
        "made",
        r"made\s+(?:a\s+|an\s+|some\s+|several\s+|the\s+|a few\s+|a couple of\s+|my\s+)?"
        r"(?:\w+\s+)?(?:mistakes?|errors?|misjudgm?ents?|wrong calls?|bad calls?|"
        r"poor decisions?|bad decisions?)\b",
        after=r"(?<![a-z0-9])i\s+(?:also\s+|definitely\s+|certainly\s+|clearly\s+)?$",
    ),
    (
        "ownership",
        "my",
        r"my\s+(?:reliability|performance|work|output|attendance|punctuality|communication|"
        r"results|numbers|skills|time management)\s+(?:was|were)\s+(?:not|n't|below|under|"
        r"behind|lacking|inconsistent|poor|weak|not where)",
    ),
    Pattern(
        "ownership",
        "missed",
        r"missed\s+(?:\w+\s+)?(?:deadlines?|targets?|goals?|quotas?|expectations)\b",
        after=r"(?<![a-z0-9])i\s+$",
    ),
    (
        "results",
        "0 1 2 3 4 5 6 7 8 9",
        r"\d[\d,]*(?:\.\d+)?(?:\s*(?:%|percent\b|per cent\b|x\b|k\b|million\b|billion\b|"
        r"thousand\b)|\+?\s+(?:new\s+|more\s+|active\s+|paying\s+)?(?:customers|clients|users|"
        r"accounts|people|employees|engineers|reports|projects|stores|sites|deals|sales|students|"
        r"patients|hires|members|countries|markets|products|features|releases|leads|tickets|"
        r"partners|courses|apps|events)\b)",
    ),
    ("results", "", r"[$€£¥]\s?\d[\d,.]*(?:\s*(?:k|m|million|billion|thousand)\b)?"),
    ("results", "top", r"top\s+\d+\b"),
    (
        "results",
        "improved increased reduced cut raised lowered grew",
        r"(?:improved|increased|reduced|cut|raised|lowered|grew)\s+(?:\w+\s+){0,3}by\s+"
        r"(?:\d|a\s+(?:third|quarter|half)|half|double)",
    ),
    Pattern(
        "specific",
        "engineer developer designer manager analyst scientist accountant nurse teacher "
        "consultant specialist coordinator administrator architect technician writer editor "
        "marketer recruiter representative associate director lead officer planner strategist "
        "researcher therapist assistant",
        r"(?:engineer|developer|designer|manager|analyst|scientist|accountant|nurse|teacher|"
        r"consultant|specialist|coordinator|administrator|architect|technician|writer|editor|"
        r"marketer|recruiter|representative|associate|director|lead|officer|planner|"
        r"strategist|researcher|therapist|assistant)s?\b",
        after=r"(?<![a-z0-9])(?:as|become|becoming|being|work as)\s+(?:an?\s+)?"
        r"(?:[a-z+#-]+\s+){0,2}$",
    ),
    (
        "skill~list",
        "skill skills experience background expertise knowledge proficiency specialization "
        "specialisation specialty specialized specialised specialize specialise focus focused",
        r"(?:skills?|experience|background|expertise|knowledge|proficiency|speciali[sz]ation|"
        r"specialty|speciali[sz]ed|speciali[sz]e|focus(?:ed)?)\s+(?:in|with|on)\s+"
        r"(?P<x>[a-z0-9+#./-]+(?:(?:\s*,\s*|\s+)(?:and\s+|or\s+)?[a-z0-9+#./-]+){0,7})",
    ),
    Pattern(
        "hedge",
        "kind sort",
        r"(?:kind|sort)\s+of\b",
        not_after=r"(?:this|that|what|the|any|some|same|every|other|which|a|one|no|my|your|"
        r"their|our|his|her|its|each|certain)\s+$",
    ),
)

LEXICON = Lexicon(
    lang="en",
    terms=TERMS,
    patterns=PATTERNS,
    negatable=NEGATABLE_TAGS,
    # A negation word, then at most two more words of the same clause, right before.
    negation=(
        r"(?:\b(?:not|no|never|without|hardly|nor|neither|nobody|none|nothing|barely)|n't)\b"
        r"(?:\s+(?!but\b|however\b|although\b|though\b)[^\s.;:!?()\[\],\"]+){0,2}\s*$"
    ),
    window=40,
    skill_split=r"\s*,\s*(?:and\s+|or\s+)?|\s+(?:and|or|&)\s+",
    skill_stop=words(
        "the a an my our your their this that these those to for at on in of with was is are "
        "were be been being which who where when while as by from i we you it so but because "
        "then than also very really just and or have has had can could will would should into "
        "over under about like such etc valued here there now"
    ),
    skill_generic=words(
        "it this that things stuff work everything anything something many different various "
        "lots lot several other others people"
    ),
    skill_max_words=3,
)
